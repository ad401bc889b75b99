package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/vire-dev/vire/sdk"
)

// maxFileSize bounds a configuration file (and a file() read) so a mistaken
// path cannot make the server read gigabytes.
const maxFileSize = 4 << 20

// fileContent is the top level of one configuration file. Attributes are kept
// as *hcl.Attribute and evaluated by this package rather than by gohcl, so
// that sensitive marks and unknown values are handled in one place.
type fileContent struct {
	PluginDir *hcl.Attribute    `hcl:"plugin_dir,optional"`
	Servers   []*serverBlock    `hcl:"server,block"`
	Storages  []*componentBlock `hcl:"storage,block"`
	Keys      []*componentBlock `hcl:"keys,block"`
	Sources   []*sourceBlock    `hcl:"source,block"`
	Caches    []*componentBlock `hcl:"cache,block"`
	Auths     []*authBlock      `hcl:"auth,block"`
	Plugins   []*pluginBlock    `hcl:"plugin,block"`
	Variables []*variableBlock  `hcl:"variable,block"`
	Locals    []*localsBlock    `hcl:"locals,block"`
}

type serverBlock struct {
	Listen                 *hcl.Attribute `hcl:"listen,optional"`
	LogLevel               *hcl.Attribute `hcl:"log_level,optional"`
	LogFormat              *hcl.Attribute `hcl:"log_format,optional"`
	ShutdownTimeout        *hcl.Attribute `hcl:"shutdown_timeout,optional"`
	AllowRemoteWithoutAuth *hcl.Attribute `hcl:"allow_remote_without_auth,optional"`
	DeclRange              hcl.Range      `hcl:",def_range"`
}

type authBlock struct {
	Mode            *hcl.Attribute `hcl:"mode,optional"`
	RateLimit       *hcl.Attribute `hcl:"rate_limit,optional"`
	RateBurst       *hcl.Attribute `hcl:"rate_burst,optional"`
	ScopeRateLimits *hcl.Attribute `hcl:"scope_rate_limits,optional"`
	DeclRange       hcl.Range      `hcl:",def_range"`
}

type componentBlock struct {
	Plugin      string    `hcl:"plugin,label"`
	PluginRange hcl.Range `hcl:"plugin,label_range"`
	Body        hcl.Body  `hcl:",remain"`
	DeclRange   hcl.Range `hcl:",def_range"`
}

type sourceBlock struct {
	Plugin      string    `hcl:"plugin,label"`
	PluginRange hcl.Range `hcl:"plugin,label_range"`
	Name        string    `hcl:"name,label"`
	NameRange   hcl.Range `hcl:"name,label_range"`
	Body        hcl.Body  `hcl:",remain"`
	DeclRange   hcl.Range `hcl:",def_range"`
}

type pluginBlock struct {
	Name      string         `hcl:"name,label"`
	NameRange hcl.Range      `hcl:"name,label_range"`
	Path      *hcl.Attribute `hcl:"path,optional"`
	SHA256    *hcl.Attribute `hcl:"sha256,optional"`
	Env       *hcl.Attribute `hcl:"env,optional"`
	DeclRange hcl.Range      `hcl:",def_range"`
}

type variableBlock struct {
	Name        string         `hcl:"name,label"`
	NameRange   hcl.Range      `hcl:"name,label_range"`
	Type        *hcl.Attribute `hcl:"type,optional"`
	Default     *hcl.Attribute `hcl:"default,optional"`
	Sensitive   *hcl.Attribute `hcl:"sensitive,optional"`
	Description *hcl.Attribute `hcl:"description,optional"`
	DeclRange   hcl.Range      `hcl:",def_range"`
}

type localsBlock struct {
	Attrs hcl.Attributes `hcl:",remain"`
}

// merged is every file's content put together.
type merged struct {
	files     []*hcl.File
	pluginDir []*hcl.Attribute
	servers   []*serverBlock
	storages  []*componentBlock
	keys      []*componentBlock
	sources   []*sourceBlock
	caches    []*componentBlock
	auths     []*authBlock
	plugins   []*pluginBlock
	variables []*variableBlock
	locals    []*hcl.Attribute
}

// Load reads a configuration file, or every *.hcl file in a directory, and
// evaluates everything except the plugin blocks' bodies, which
// DecodeComponents decodes once the plugins' schemas are known.
func Load(path string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	c := &Config{Files: map[string]*hcl.File{}}
	info, err := os.Stat(path)
	if err != nil {
		return c, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration",
			Detail:   fmt.Sprintf("The configuration %q cannot be read: %s.", path, pathError(err)),
		}}
	}
	var names []string
	dir := path
	if info.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return c, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Cannot read configuration directory",
				Detail:   fmt.Sprintf("The directory %q cannot be listed: %s.", path, pathError(err)),
			}}
		}
		for _, e := range entries {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".hcl") && !strings.HasPrefix(e.Name(), ".") {
				names = append(names, filepath.Join(path, e.Name()))
			}
		}
		sort.Strings(names)
		if len(names) == 0 {
			return c, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "No configuration files",
				Detail:   fmt.Sprintf("The directory %q holds no *.hcl files.", path),
			}}
		}
	} else {
		names = []string{path}
		dir = filepath.Dir(path)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return c, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot resolve configuration directory",
			Detail:   fmt.Sprintf("The directory of %q cannot be made absolute: %s.", path, err),
		}}
	}
	c.Dir = abs

	var diags hcl.Diagnostics
	var files []*hcl.File
	for _, name := range names {
		src, err := readLimited(name)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read configuration file",
				Detail:   fmt.Sprintf("The file %q cannot be read: %s.", name, pathError(err)),
			})
			continue
		}
		f, fd := parse(name, src)
		c.Files[name] = f
		diags = append(diags, fd...)
		files = append(files, f)
	}
	return c, c.finish(files, diags, opts)
}

// LoadBytes loads one configuration held in memory, such as the embedded
// default. Relative paths resolve against opts.WorkDir (or the working
// directory).
func LoadBytes(filename string, src []byte, opts LoadOptions) (*Config, hcl.Diagnostics) {
	c := &Config{Files: map[string]*hcl.File{}}
	dir := opts.WorkDir
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return c, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot resolve working directory",
			Detail:   fmt.Sprintf("The working directory cannot be determined: %s.", err),
		}}
	}
	c.Dir = abs
	f, diags := parse(filename, src)
	c.Files[filename] = f
	return c, c.finish([]*hcl.File{f}, diags, opts)
}

func parse(filename string, src []byte) (*hcl.File, hcl.Diagnostics) {
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if f == nil {
		// Keep the bytes so diagnostics can still show snippets.
		f = &hcl.File{Body: hcl.EmptyBody(), Bytes: src}
	}
	if f.Bytes == nil {
		f.Bytes = src
	}
	return f, diags
}

func readLimited(name string) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	src, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(src) > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	return src, nil
}

// pathError drops the path that os errors repeat, since the message names it.
func pathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// finish decodes the parsed files. After a syntax error nothing is
// evaluated: what follows it in the file is guesswork, and the errors it
// would produce would only bury the one that matters.
func (c *Config) finish(files []*hcl.File, diags hcl.Diagnostics, opts LoadOptions) hcl.Diagnostics {
	c.secrets = &secretSet{}
	if diags.HasErrors() {
		c.loadErrors = true
		return c.sanitize(diags)
	}
	m := &merged{files: files}
	for _, f := range files {
		var fc fileContent
		diags = append(diags, gohcl.DecodeBody(f.Body, nil, &fc)...)
		m.add(&fc)
	}

	ev := newEvaluator(c.Dir, opts, c.secrets)
	c.eval = ev
	diags = append(diags, ev.declareVariables(m.variables, opts)...)
	diags = append(diags, ev.declareLocals(m.locals)...)
	diags = append(diags, checkStatic(m, ev)...)
	diags = append(diags, ev.evalLocals()...)
	ev.buildContext()

	diags = append(diags, c.decodeServer(m)...)
	diags = append(diags, c.decodeAuth(m)...)
	diags = append(diags, c.decodePlugins(m)...)
	diags = append(diags, c.decodeComponentsBlocks(m)...)
	diags = append(diags, c.checkUnusedPlugins()...)
	diags = append(diags, c.checkRemoteAuth()...)

	diags = c.sanitize(diags)
	c.loadErrors = diags.HasErrors()
	return diags
}

func (m *merged) add(fc *fileContent) {
	if fc.PluginDir != nil {
		m.pluginDir = append(m.pluginDir, fc.PluginDir)
	}
	m.servers = append(m.servers, fc.Servers...)
	m.storages = append(m.storages, fc.Storages...)
	m.keys = append(m.keys, fc.Keys...)
	m.sources = append(m.sources, fc.Sources...)
	m.caches = append(m.caches, fc.Caches...)
	m.auths = append(m.auths, fc.Auths...)
	m.plugins = append(m.plugins, fc.Plugins...)
	m.variables = append(m.variables, fc.Variables...)
	for _, l := range fc.Locals {
		names := make([]string, 0, len(l.Attrs))
		for name := range l.Attrs {
			names = append(names, name)
		}
		sort.Slice(names, func(i, j int) bool {
			return l.Attrs[names[i]].Range.Start.Byte < l.Attrs[names[j]].Range.Start.Byte
		})
		for _, name := range names {
			m.locals = append(m.locals, l.Attrs[name])
		}
	}
}

// duplicate reports a second block where only one is allowed.
func duplicate(what string, first, again hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Duplicate %s", what),
		Detail:   fmt.Sprintf("Only one %s is allowed; the first is at %s.", what, where(first)),
		Subject:  again.Ptr(),
	}
}

var pluginName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

func checkLabel(what, label string, r hcl.Range) hcl.Diagnostics {
	if pluginName.MatchString(label) && len(label) <= 64 {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Invalid %s", what),
		Detail: fmt.Sprintf("A %s must start with a lower-case letter or digit, hold only lower-case letters, digits, '-' and '_', and be at most 64 characters long; %q is not.",
			what, label),
		Subject: r.Ptr(),
	}}
}

func (c *Config) decodeComponentsBlocks(m *merged) hcl.Diagnostics {
	var diags hcl.Diagnostics
	single := func(kind sdk.ComponentKind, blocks []*componentBlock) *Component {
		if len(blocks) == 0 {
			return nil
		}
		for _, b := range blocks[1:] {
			diags = append(diags, duplicate(string(kind)+" block", blocks[0].DeclRange, b.DeclRange))
		}
		b := blocks[0]
		ld := checkLabel("plugin name", b.Plugin, b.PluginRange)
		diags = append(diags, ld...)
		return &Component{
			Kind: kind, Plugin: b.Plugin, Name: string(kind), Body: b.Body,
			DeclRange: b.DeclRange, LabelRange: b.PluginRange, invalid: ld.HasErrors(),
		}
	}
	c.Storage = single(sdk.KindStorage, m.storages)
	c.Keys = single(sdk.KindKeys, m.keys)
	c.Cache = single(KindCache, m.caches)
	if c.Storage == nil {
		var subject *hcl.Range
		if len(m.files) > 0 && m.files[0].Body != nil {
			subject = m.files[0].Body.MissingItemRange().Ptr()
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing storage block",
			Detail:   `A storage block is required, for example: storage "file" { root = "./data" }.`,
			Subject:  subject,
		})
	}
	seen := map[string]*sourceBlock{}
	for _, s := range m.sources {
		ld := checkLabel("plugin name", s.Plugin, s.PluginRange)
		ld = append(ld, checkLabel("source name", s.Name, s.NameRange)...)
		diags = append(diags, ld...)
		if first, ok := seen[s.Name]; ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate source name",
				Detail:   fmt.Sprintf("A source named %q is already declared at %s; source names must be unique.", s.Name, where(first.DeclRange)),
				Subject:  s.NameRange.Ptr(),
			})
			continue
		}
		seen[s.Name] = s
		c.Sources = append(c.Sources, &Component{
			Kind: sdk.KindSource, Plugin: s.Plugin, Name: s.Name, Body: s.Body,
			DeclRange: s.DeclRange, LabelRange: s.PluginRange, invalid: ld.HasErrors(),
		})
	}
	return diags
}

// where names a position as file:line:col.
func where(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
