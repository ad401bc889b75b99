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
// that). Every tombstone's content carries a random nonce, so its ETag is
// its own: an If-Match on it can replace that tombstone only. Readers treat
// a tombstone as absent, listings skip it, and a create (If-None-Match) that
// meets one replaces it conditionally, with an If-Match on an ETag it has
// proven to be that tombstone's (tombstone.go).
package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/backends/internal/objname"
	"github.com/vire-dev/vire/backends/internal/storekit"
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
	conditionalCreateAttempts = 5
)

// Store is the S3 BlobStore. Create it with New and configure it with
// Configure before use.
type Store struct {
	log hclog.Logger
	cur storekit.Current[config]
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
	return &Store{log: logger, cur: storekit.Current[config]{Backend: "s3"}}
}

var schema = sdk.ConfigSchema{Attributes: append(storekit.BucketAttributes(),
	sdk.Attribute{Name: "region", Type: sdk.TypeString, Default: defaultRegion,
		Description: "Region of the bucket (any value for most S3-compatible servers)."},
	sdk.Attribute{Name: "endpoint", Type: sdk.TypeString, Default: "",
		Description: "Endpoint URL of an S3-compatible server (versitygw, MinIO, R2, ...); empty for AWS."},
	sdk.Attribute{Name: "use_path_style", Type: sdk.TypeBool, Default: false,
		Description: "Address the bucket as endpoint/bucket instead of bucket.endpoint; most self-hosted servers need it."},
	sdk.Attribute{Name: "access_key_id", Type: sdk.TypeString, Default: "", Sensitive: true,
		Description: "Access key ID; with secret_access_key. When both are empty the AWS default credential chain is used."},
	sdk.Attribute{Name: "secret_access_key", Type: sdk.TypeString, Default: "", Sensitive: true,
		Description: "Secret access key; with access_key_id."},
	sdk.Attribute{Name: "multipart_threshold", Type: sdk.TypeNumber, Default: defaultMultipartThreshold,
		Description: "Blobs larger than this many bytes are uploaded in parts (5 MiB to 5 GiB); smaller ones in one request."},
	sdk.Attribute{Name: "part_size", Type: sdk.TypeNumber, Default: defaultPartSize,
		Description: "Size of each part of a multipart upload, in bytes (5 MiB to 5 GiB)."},
)}

// Schema declares the configuration.
func (s *Store) Schema() sdk.ConfigSchema { return schema }

// Capabilities: S3 evaluates If-Match and If-None-Match atomically on
// writes; deletes are made conditional through a tombstone write.
func (s *Store) Capabilities() sdk.BlobCapabilities {
	return sdk.BlobCapabilities{ConditionalWrite: true}
}

// Configure builds the client and checks that the bucket answers.
func (s *Store) Configure(ctx context.Context, v sdk.ConfigValue) error {
	var errs sdk.ConfigErrors
	bucket, codec := storekit.Bucket(v, &errs)
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
	threshold := storekit.ByteSize(v, "multipart_threshold", defaultMultipartThreshold, minPartSize, maxMultipartThreshold, &errs)
	partSize := storekit.ByteSize(v, "part_size", defaultPartSize, minPartSize, maxPartSize, &errs)
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
	s.cur.Swap(c)
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

// Health checks that the bucket answers with the configured credentials.
func (s *Store) Health(ctx context.Context) error {
	c, err := s.cur.Get()
	if err != nil {
		return err
	}
	return c.health(ctx)
}

// Close forgets the client; the SDK holds no resources that need closing.
func (s *Store) Close() error {
	s.cur.Swap(nil)
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

// classify wraps err with the sdk kind S3's answer means. It never adds
// anything from the request: credentials stay out of errors.
func classify(err error) error {
	return storekit.Classify(err, func(err error) error {
		code, status := apiCode(err)
		switch {
		case code == "NoSuchBucket":
			return fmt.Errorf("%w: the bucket does not exist", sdk.ErrUnavailable)
		case code == "NoSuchKey" || code == "NotFound" || status == http.StatusNotFound:
			return sdk.ErrNotFound
		case isPrecondition(err):
			return sdk.ErrPrecondition
		case code == "AccessDenied" || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
			code == "ExpiredToken" || code == "InvalidToken" || status == http.StatusForbidden || status == http.StatusUnauthorized:
			return sdk.ErrUnauthorized
		case code == "SlowDown" || code == "Throttling" || code == "ThrottlingException" || status == http.StatusTooManyRequests:
			return &sdk.RateLimitError{Message: "S3 asked to slow down"}
		case status >= 500:
			return sdk.ErrUnavailable
		case code == "KeyTooLongError" || code == "InvalidArgument":
			return sdk.ErrInvalidArgument
		}
		return nil
	})
}
