// Package eodhd is Vire's market-data source backed by EOD Historical Data
// (https://eodhd.com): end-of-day history, delayed real-time quotes, bulk
// last-day prices, fundamentals, dividends, splits, search, exchange symbol
// lists and the account's call budget.
//
// The API key travels as the api_token query parameter, so the plugin logs
// request paths only and scrubs the key from every error it returns. A
// tenant's own key, passed with a call in sdk.Credentials, overrides the
// configured api_key for that call and is never kept.
//
// EODHD's replies are untidy: numbers arrive as strings, junk values ("N/A",
// "", null, "NaN") mean missing, a single real-time quote is an object and
// several are an array. The decoders accept all of it; a missing value is
// nil, never zero.
package eodhd

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/sdk"
)

// Defaults for the configuration attributes.
const (
	DefaultBaseURL           = "https://eodhd.com/api"
	DefaultTimeout           = "30s"
	DefaultRequestsPerMinute = 900
	DefaultMaxRetries        = 2
	// maxRetriesLimit keeps a misconfiguration from turning one call into
	// minutes of retrying during EODHD's maintenance window.
	maxRetriesLimit = 10
	// EODHD rejects more than 1,000 calls a minute.
	upstreamPerMinute = 1000
)

// Source is the EODHD market-data component. Construct it with New and
// configure it before use.
type Source struct {
	log hclog.Logger
	// now feeds the rate limiter's clock; tests replace it.
	now func() time.Time
	// backoff is the first wait before retrying a 5xx; it doubles per retry.
	backoff time.Duration

	cfg atomic.Pointer[settings]
}

// settings is one Configure call's result, swapped in whole so calls in
// flight keep a consistent view.
type settings struct {
	apiKey     string
	baseURL    string // scheme://host/path, no trailing slash, no query
	client     *http.Client
	limiter    *limiter
	maxRetries int
}

var _ sdk.MarketData = (*Source)(nil)

// New returns an unconfigured source.
func New(log hclog.Logger) *Source {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Source{log: log, now: time.Now, backoff: 500 * time.Millisecond}
}

// Schema declares api_key, base_url, timeout, requests_per_minute and
// max_retries.
func (s *Source) Schema() sdk.ConfigSchema {
	return sdk.ConfigSchema{Attributes: []sdk.Attribute{
		{
			Name: "api_key", Type: sdk.TypeString, Sensitive: true,
			Description: "The operator's EODHD API token, used when a call carries no tenant key of its own. " +
				"Set it from a sensitive variable whose default reads an environment variable (e.g. EODHD_API_KEY); " +
				"leave it unset to require every tenant to bring a key.",
		},
		{
			Name: "base_url", Type: sdk.TypeString, Default: DefaultBaseURL,
			Description: "The EODHD API root. Change it only to point at a proxy or a test server.",
		},
		{
			Name: "timeout", Type: sdk.TypeString, Default: DefaultTimeout,
			Description: "How long one HTTP request may take, as a Go duration (\"30s\", \"2m\"). Fundamentals and US symbol lists are large.",
		},
		{
			Name: "requests_per_minute", Type: sdk.TypeNumber, Default: DefaultRequestsPerMinute,
			Description: "Client-side limit on calls to EODHD, shared by every key this plugin uses. " +
				"EODHD rejects more than 1,000 a minute; short bursts may reach 1.05 × this value.",
		},
		{
			Name: "max_retries", Type: sdk.TypeNumber, Default: DefaultMaxRetries,
			Description: "How often a call that failed with a 5xx status or a network error is retried, with exponential backoff (0 to 10).",
		},
	}}
}

// Configure validates and installs the settings. Errors name the attribute
// and never quote the API key.
func (s *Source) Configure(_ context.Context, cfg sdk.ConfigValue) error {
	var errs sdk.ConfigErrors
	add := func(attr, format string, args ...any) {
		errs = append(errs, sdk.ConfigError{Attribute: attr, Message: fmt.Sprintf(format, args...)})
	}
	st := &settings{}

	if raw, ok := cfg["api_key"]; ok && raw != nil {
		k, isString := raw.(string)
		switch {
		case !isString:
			add("api_key", "must be a string")
		case strings.TrimSpace(k) != k || strings.ContainsAny(k, " \t\r\n&?#/"):
			add("api_key", "holds whitespace or URL punctuation; an EODHD token is letters, digits and dots")
		default:
			st.apiKey = k
		}
	}

	base := stringOr(cfg, "base_url", DefaultBaseURL)
	if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		add("base_url", "must be an http or https URL such as %s", DefaultBaseURL)
	} else if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		add("base_url", "must not carry a query, fragment or user information")
	} else {
		st.baseURL = strings.TrimRight(u.String(), "/")
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			s.log.Warn("base_url is plain http: the API key would cross the network unencrypted", "host", u.Host)
		}
	}

	timeout, err := time.ParseDuration(stringOr(cfg, "timeout", DefaultTimeout))
	if err != nil || timeout <= 0 {
		add("timeout", "must be a positive duration such as \"30s\"")
	}

	rpm := numberOr(cfg, "requests_per_minute", DefaultRequestsPerMinute)
	switch {
	case rpm <= 0:
		add("requests_per_minute", "must be positive")
	case rpm > upstreamPerMinute:
		add("requests_per_minute", "must not exceed %d: EODHD rejects calls beyond that", upstreamPerMinute)
	}

	retries := numberOr(cfg, "max_retries", DefaultMaxRetries)
	if retries < 0 || retries > maxRetriesLimit || retries != float64(int(retries)) {
		add("max_retries", "must be a whole number from 0 to %d", maxRetriesLimit)
	}

	if len(errs) > 0 {
		return errs
	}
	st.maxRetries = int(retries)
	st.limiter = newLimiter(rpm, s.now)
	st.client = &http.Client{
		Timeout: timeout,
		// A redirect elsewhere would carry nothing secret (the query is not
		// forwarded), but an API that redirects is not one to trust blindly.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 || req.URL.Host != via[0].URL.Host {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	s.cfg.Store(st)
	s.log.Debug("configured", "base_url", st.baseURL, "timeout", timeout.String(), "requests_per_minute", rpm,
		"max_retries", st.maxRetries, "api_key_set", st.apiKey != "")
	return nil
}

// Health reports whether the source is configured. It makes no call:
// EODHD counts every request against the daily allowance.
func (s *Source) Health(context.Context) error {
	if s.cfg.Load() == nil {
		return fmt.Errorf("%w: eodhd source is not configured", sdk.ErrUnavailable)
	}
	return nil
}

func (s *Source) settings() (*settings, error) {
	st := s.cfg.Load()
	if st == nil {
		return nil, fmt.Errorf("%w: eodhd source is not configured", sdk.ErrUnavailable)
	}
	return st, nil
}

func stringOr(cfg sdk.ConfigValue, name, def string) string {
	if v, ok := cfg[name].(string); ok {
		return v
	}
	return def
}

func numberOr(cfg sdk.ConfigValue, name string, def float64) float64 {
	if _, ok := cfg[name]; !ok || cfg[name] == nil {
		return def
	}
	return cfg.Number(name)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
