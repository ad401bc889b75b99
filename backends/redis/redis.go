// Package redis is Vire's Redis storage backend: an sdk.BlobStore kept in a
// Redis server (standalone or behind a proxy that supports Lua scripts).
//
// # Layout
//
// Under the configured prefix P every blob is a small metadata hash plus
// immutable chunks:
//
//	P m:<key>            hash: v (version = ETag), s (size), n (chunks), c (content type), t (modified, ms)
//	P c:<version>:<i>    chunk i of that version (at most chunk_size bytes)
//	P i                  sorted set of every key (score 0), for listing in byte order
//	P v                  version counter
//
// Keys are binary-safe in Redis, and the four kinds of internal name differ
// right after the prefix, so no user key can collide with another name.
//
// # Consistency
//
// A write stores its chunks under a version number no other write uses, then
// a Lua script checks the condition (If-Match / If-None-Match), switches the
// metadata hash to the new version and updates the index, all atomically. A
// reader reads the metadata, then that version's chunks, which never change:
// it sees a whole blob or none. Superseded chunks are not deleted at once but
// expire after a grace period, so a stream that started on the old version
// can finish; a stream slower than that fails instead of returning a mix.
// Chunks of a write that fails or is abandoned expire on their own.
package redis

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	goredis "github.com/redis/go-redis/v9"

	"github.com/vire-dev/vire/backends/internal/storekit"
	"github.com/vire-dev/vire/sdk"
)

const (
	defaultPrefix    = "vire:"
	defaultChunkSize = 1 << 20
	minChunkSize     = 4 << 10
	maxChunkSize     = 64 << 20
	// graceTTL is how long superseded or deleted chunks stay readable for
	// streams that began before the switch.
	graceTTL = 2 * time.Minute
	// pendingTTL bounds the life of chunks whose write never commits (the
	// writer failed or died). A write that takes longer fails at commit.
	pendingTTL = time.Hour
)

// Store is the Redis BlobStore. Create it with New and configure it with
// Configure before use.
type Store struct {
	log hclog.Logger
	cur storekit.Current[config]
}

type config struct {
	client    *goredis.Client
	prefix    string
	ttl       time.Duration
	chunkSize int
}

// New returns an unconfigured store.
func New(logger hclog.Logger) *Store {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Store{log: logger, cur: storekit.Current[config]{Backend: "redis"}}
}

var schema = sdk.ConfigSchema{Attributes: []sdk.Attribute{
	{Name: "url", Type: sdk.TypeString, Required: true, Sensitive: true,
		Description: "Server URL: redis://[user:password@]host:port/db, rediss:// for TLS, or unix:///path/to/socket. Sensitive because it may hold a password."},
	{Name: "prefix", Type: sdk.TypeString, Default: defaultPrefix,
		Description: "Prefix of every Redis key this store uses; give each store sharing a server its own."},
	{Name: "ttl", Type: sdk.TypeString, Default: "",
		Description: "Optional expiry of every blob after its last write, as a Go duration (\"24h\"); empty keeps blobs until deleted. For cache-like use."},
	{Name: "tls_ca_file", Type: sdk.TypeString, Default: "",
		Description: "PEM file of the certificate authorities that sign the server's certificate, for rediss:// with a private CA; empty trusts the system's roots."},
	{Name: "chunk_size", Type: sdk.TypeNumber, Default: defaultChunkSize,
		Description: "Largest piece of a blob stored under one Redis key, in bytes (4 KiB to 64 MiB)."},
}}

// Schema declares the configuration.
func (s *Store) Schema() sdk.ConfigSchema { return schema }

// Capabilities: conditional writes and deletes are atomic Lua scripts.
func (s *Store) Capabilities() sdk.BlobCapabilities {
	return sdk.BlobCapabilities{ConditionalWrite: true}
}

// Configure connects to the server named by the configuration. It may be
// called again; the previous connection is closed.
func (s *Store) Configure(ctx context.Context, v sdk.ConfigValue) error {
	var errs sdk.ConfigErrors
	opts, err := parseURL(v.String("url"))
	if err != nil {
		errs = append(errs, sdk.ConfigError{Attribute: "url", Message: err.Error()})
	}
	prefix := v.String("prefix")
	if _, ok := v["prefix"]; !ok {
		prefix = defaultPrefix
	}
	var ttl time.Duration
	if t := v.String("ttl"); t != "" {
		d, err := time.ParseDuration(t)
		switch {
		case err != nil:
			errs = append(errs, sdk.ConfigError{Attribute: "ttl", Message: "must be a duration such as \"30m\" or \"24h\""})
		case d < time.Second:
			errs = append(errs, sdk.ConfigError{Attribute: "ttl", Message: "must be at least 1s (or empty for no expiry)"})
		default:
			ttl = d
		}
	}
	chunk := int(storekit.ByteSize(v, "chunk_size", defaultChunkSize, minChunkSize, maxChunkSize, &errs))
	if ca := v.String("tls_ca_file"); ca != "" {
		switch pool, err := loadCAs(ca); {
		case err != nil:
			errs = append(errs, sdk.ConfigError{Attribute: "tls_ca_file", Message: err.Error()})
		case opts != nil && opts.TLSConfig == nil:
			errs = append(errs, sdk.ConfigError{Attribute: "tls_ca_file", Message: "is only used with a rediss:// url"})
		case opts != nil:
			opts.TLSConfig.RootCAs = pool
		}
	}
	if len(errs) > 0 {
		return errs
	}
	// A retried script or INCR may already have run once: never resend.
	opts.MaxRetries = -1
	opts.DisableIdentity = true
	client := goredis.NewClient(opts)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return fmt.Errorf("redis: connecting to %s: %w", redactedAddr(opts), classify(err))
	}
	if old := s.cur.Swap(&config{client: client, prefix: prefix, ttl: ttl, chunkSize: chunk}); old != nil {
		old.client.Close()
	}
	s.log.Debug("configured", "addr", redactedAddr(opts), "prefix", prefix, "ttl", ttl, "chunk_size", chunk)
	return nil
}

// parseURL checks the URL without ever quoting it: it may hold a password.
func parseURL(raw string) (*goredis.Options, error) {
	if raw == "" {
		return nil, errors.New("must be set")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("is not a valid URL")
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
	default:
		return nil, errors.New("must start with redis://, rediss:// or unix://")
	}
	opts, err := goredis.ParseURL(raw)
	if err != nil {
		return nil, errors.New("is not a valid Redis URL (check host, port, database number and query options)")
	}
	return opts, nil
}

func loadCAs(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %v", errors.Unwrap(err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, errors.New("holds no PEM certificate")
	}
	return pool, nil
}

// redactedAddr names the server for logs and errors: address only, never
// user name or password.
func redactedAddr(o *goredis.Options) string {
	if o.Network == "unix" {
		return "unix:" + o.Addr
	}
	return o.Addr
}

// Health pings the server.
func (s *Store) Health(ctx context.Context) error {
	c, err := s.cur.Get()
	if err != nil {
		return err
	}
	if err := c.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", classify(err))
	}
	return nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	c := s.cur.Swap(nil)
	if c == nil {
		return nil
	}
	return c.client.Close()
}

// classify wraps err with the sdk kind it means.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "NOAUTH"), strings.HasPrefix(msg, "WRONGPASS"), strings.HasPrefix(msg, "NOPERM"):
		return fmt.Errorf("%w: %v", sdk.ErrUnauthorized, err)
	case strings.HasPrefix(msg, "LOADING"), strings.HasPrefix(msg, "BUSY"), strings.HasPrefix(msg, "TRYAGAIN"),
		strings.HasPrefix(msg, "MASTERDOWN"), strings.HasPrefix(msg, "READONLY"), strings.HasPrefix(msg, "OOM"):
		return fmt.Errorf("%w: %v", sdk.ErrUnavailable, err)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, goredis.ErrClosed) || errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("%w: %v", sdk.ErrUnavailable, err)
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return fmt.Errorf("%w: %v", sdk.ErrUnavailable, err)
	}
	return err
}

func (c *config) metaKey(key string) string { return c.prefix + "m:" + key }
func (c *config) indexKey() string          { return c.prefix + "i" }
func (c *config) counterKey() string        { return c.prefix + "v" }
func (c *config) chunkPrefix() string       { return c.prefix + "c:" }
func (c *config) chunkKey(version int64, i int) string {
	return fmt.Sprintf("%s%d:%d", c.chunkPrefix(), version, i)
}
