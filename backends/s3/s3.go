// Package s3 is Vire's S3 storage backend: an sdk.BlobStore in an S3 bucket
// (AWS, or any S3-compatible server such as versitygw, MinIO or R2).
//
// Keys are stored under object names made by backends/internal/objname: an
// injective, byte-order-preserving encoding into characters every S3
// implementation keeps, so listings come back in key order and prefix
// listings use S3's own prefix filter. Keys whose names would pass S3's
// 1,024-byte limit keep their full key in object metadata.
//
// Conditional writes use PutObject and CompleteMultipartUpload with If-Match
// and If-None-Match, which S3 evaluates atomically. S3's conditional
// DeleteObject cannot tell "deleted" from "already gone" (both are 204), so
// a conditional delete replaces the blob with a tombstone through a
// conditional PutObject instead (only one of several racing deleters can do
// that). Readers treat a tombstone as absent, listings skip it, and a create
// (If-None-Match) that meets one replaces it conditionally.
package s3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/backends/internal/objname"
	"github.com/vire-dev/vire/sdk"
)

const (
	mib                       = 1 << 20
	defaultRegion             = "us-east-1"
	defaultMultipartThreshold = 16 * mib
	defaultPartSize           = 8 * mib
	minPartSize               = 5 * mib // S3's smallest part but the last
	maxPartSize               = 5 << 30 // S3's largest part
	maxMultipartThreshold     = 5 << 30 // S3's largest single PutObject
	maxParts                  = 10000   // S3's part count limit
	defaultContentType        = "application/octet-stream"
	metaKey                   = "vire-key"       // full key of an overflow name
	metaTombstone             = "vire-tombstone" // marks a tombstone
	metaNoType                = "vire-no-type"   // the writer gave no content type
	tombstoneBody             = "vire tombstone: this key is deleted (see Vire's docs/backends.md)\n"
	conditionalCreateAttempts = 5
)

// Store is the S3 BlobStore. Create it with New and configure it with
// Configure before use.
type Store struct {
	log hclog.Logger

	mu  sync.RWMutex
	cfg *config
}

type config struct {
	client    *s3.Client
	bucket    string
	codec     *objname.Codec
	threshold int64
	partSize  int64
}

// New returns an unconfigured store.
func New(logger hclog.Logger) *Store {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Store{log: logger}
}

var schema = sdk.ConfigSchema{Attributes: []sdk.Attribute{
	{Name: "bucket", Type: sdk.TypeString, Required: true,
		Description: "Bucket that holds the blobs; it must exist."},
	{Name: "prefix", Type: sdk.TypeString, Default: "",
		Description: "Prefix of every object name, e.g. \"vire/\"; lets several stores share a bucket."},
	{Name: "region", Type: sdk.TypeString, Default: defaultRegion,
		Description: "Region of the bucket (any value for most S3-compatible servers)."},
	{Name: "endpoint", Type: sdk.TypeString, Default: "",
		Description: "Endpoint URL of an S3-compatible server (versitygw, MinIO, R2, ...); empty for AWS."},
	{Name: "use_path_style", Type: sdk.TypeBool, Default: false,
		Description: "Address the bucket as endpoint/bucket instead of bucket.endpoint; most self-hosted servers need it."},
	{Name: "access_key_id", Type: sdk.TypeString, Default: "", Sensitive: true,
		Description: "Access key ID; with secret_access_key. When both are empty the AWS default credential chain is used."},
	{Name: "secret_access_key", Type: sdk.TypeString, Default: "", Sensitive: true,
		Description: "Secret access key; with access_key_id."},
	{Name: "multipart_threshold", Type: sdk.TypeNumber, Default: defaultMultipartThreshold,
		Description: "Blobs larger than this many bytes are uploaded in parts (5 MiB to 5 GiB); smaller ones in one request."},
	{Name: "part_size", Type: sdk.TypeNumber, Default: defaultPartSize,
		Description: "Size of each part of a multipart upload, in bytes (5 MiB to 5 GiB)."},
}}

// Schema declares the configuration.
func (s *Store) Schema() sdk.ConfigSchema { return schema }

// Capabilities: S3 evaluates If-Match and If-None-Match atomically on
// writes; deletes are made conditional through a tombstone write.
func (s *Store) Capabilities() sdk.BlobCapabilities {
	return sdk.BlobCapabilities{ConditionalWrite: true}
}

// byteSize reads a whole, bounded number of bytes.
func byteSize(v sdk.ConfigValue, name string, def, lo, hi int64, errs *sdk.ConfigErrors) int64 {
	if _, ok := v[name]; !ok {
		return def
	}
	f := v.Number(name)
	if f != float64(int64(f)) || int64(f) < lo || int64(f) > hi {
		*errs = append(*errs, sdk.ConfigError{Attribute: name,
			Message: fmt.Sprintf("must be a whole number of bytes from %d to %d", lo, hi)})
		return def
	}
	return int64(f)
}

// Configure builds the client and checks that the bucket answers.
func (s *Store) Configure(ctx context.Context, v sdk.ConfigValue) error {
	var errs sdk.ConfigErrors
	bucket := v.String("bucket")
	if bucket == "" {
		errs = append(errs, sdk.ConfigError{Attribute: "bucket", Message: "must be set"})
	}
	codec, err := objname.NewCodec(v.String("prefix"), objname.MaxName)
	if err != nil {
		errs = append(errs, sdk.ConfigError{Attribute: "prefix", Message: err.Error()})
	}
	region := v.String("region")
	if region == "" {
		region = defaultRegion
	}
	endpoint := v.String("endpoint")
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, sdk.ConfigError{Attribute: "endpoint", Message: "must be an http:// or https:// URL"})
		} else if u.User != nil {
			errs = append(errs, sdk.ConfigError{Attribute: "endpoint", Message: "must not hold credentials; use access_key_id and secret_access_key"})
		}
	}
	ak, sk := v.String("access_key_id"), v.String("secret_access_key")
	if (ak == "") != (sk == "") {
		attr := "secret_access_key"
		if ak == "" {
			attr = "access_key_id"
		}
		errs = append(errs, sdk.ConfigError{Attribute: attr, Message: "access_key_id and secret_access_key must be set together"})
	}
	threshold := byteSize(v, "multipart_threshold", defaultMultipartThreshold, minPartSize, maxMultipartThreshold, &errs)
	partSize := byteSize(v, "part_size", defaultPartSize, minPartSize, maxPartSize, &errs)
	if len(errs) > 0 {
		return errs
	}

	optFns := func(o *s3.Options) {
		o.Region = region
		o.UsePathStyle = v.Bool("use_path_style")
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		// Checksums beyond what S3 requires: many compatible servers lack
		// the newer trailing-checksum forms, and the host authenticates
		// every blob it encrypts.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	var client *s3.Client
	if ak != "" {
		client = s3.New(s3.Options{Credentials: credentials.NewStaticCredentialsProvider(ak, sk, "")}, optFns)
	} else {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
		if err != nil {
			return fmt.Errorf("s3: loading the default AWS configuration: %w", err)
		}
		client = s3.NewFromConfig(awsCfg, optFns)
	}
	c := &config{client: client, bucket: bucket, codec: codec, threshold: threshold, partSize: partSize}
	if err := c.health(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	s.cfg = c
	s.mu.Unlock()
	s.log.Debug("configured", "bucket", bucket, "prefix", codec.Prefix(), "region", region, "endpoint", endpoint,
		"static_credentials", ak != "", "multipart_threshold", threshold, "part_size", partSize)
	return nil
}

func (c *config) health(ctx context.Context) error {
	_, err := c.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(c.bucket)})
	if err != nil {
		if isNotFound(err) {
			return fmt.Errorf("s3: bucket %q does not exist: %w", c.bucket, sdk.ErrUnavailable)
		}
		return fmt.Errorf("s3: bucket %q: %w", c.bucket, classify(err))
	}
	return nil
}

func (s *Store) conf() (*config, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.cfg == nil {
		return nil, fmt.Errorf("s3: store is not configured: %w", sdk.ErrUnavailable)
	}
	return s.cfg, nil
}

// Health checks that the bucket answers with the configured credentials.
func (s *Store) Health(ctx context.Context) error {
	c, err := s.conf()
	if err != nil {
		return err
	}
	return c.health(ctx)
}

// Close forgets the client; the SDK holds no resources that need closing.
func (s *Store) Close() error {
	s.mu.Lock()
	s.cfg = nil
	s.mu.Unlock()
	return nil
}

func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("empty key: %w", sdk.ErrInvalidArgument)
	}
	if len(key) > sdk.MaxKeyLength {
		return fmt.Errorf("key of %d bytes is longer than %d: %w", len(key), sdk.MaxKeyLength, sdk.ErrInvalidArgument)
	}
	return nil
}

// apiCode returns the S3 error code and HTTP status of err, if any.
func apiCode(err error) (string, int) {
	code, status := "", 0
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

func isNotFound(err error) bool {
	code, status := apiCode(err)
	return code == "NoSuchKey" || code == "NotFound" || code == "NoSuchBucket" || status == http.StatusNotFound
}

func isPrecondition(err error) bool {
	code, status := apiCode(err)
	return code == "PreconditionFailed" || status == http.StatusPreconditionFailed ||
		code == "ConditionalRequestConflict"
}

// classify wraps err with the sdk kind it means. It never adds anything
// from the request: credentials stay out of errors.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	code, status := apiCode(err)
	switch {
	case code == "NoSuchBucket":
		return fmt.Errorf("%w: the bucket does not exist: %v", sdk.ErrUnavailable, err)
	case code == "NoSuchKey" || code == "NotFound" || status == http.StatusNotFound:
		return fmt.Errorf("%w: %v", sdk.ErrNotFound, err)
	case isPrecondition(err):
		return fmt.Errorf("%w: %v", sdk.ErrPrecondition, err)
	case code == "AccessDenied" || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
		code == "ExpiredToken" || code == "InvalidToken" || status == http.StatusForbidden || status == http.StatusUnauthorized:
		return fmt.Errorf("%w: %v", sdk.ErrUnauthorized, err)
	case code == "SlowDown" || code == "Throttling" || code == "ThrottlingException" || status == http.StatusTooManyRequests:
		return fmt.Errorf("%w: %v", &sdk.RateLimitError{Message: "S3 asked to slow down"}, err)
	case status >= 500:
		return fmt.Errorf("%w: %v", sdk.ErrUnavailable, err)
	case code == "KeyTooLongError" || code == "InvalidArgument":
		return fmt.Errorf("%w: %v", sdk.ErrInvalidArgument, err)
	}
	var ne net.Error
	if errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("%w: %v", sdk.ErrUnavailable, err)
	}
	return err
}
