// Package gcs is Vire's Google Cloud Storage backend: an sdk.BlobStore in a
// GCS bucket (or an emulator such as fake-gcs-server).
//
// Keys are stored under object names made by backends/internal/objname (an
// injective, byte-order-preserving encoding), so listings come back in key
// order and prefix listings use GCS's own prefix filter. Keys whose names
// would pass GCS's 1,024-byte limit keep their full key in object metadata.
//
// The ETag of a blob is its GCS generation number. Writes are conditional
// through ifGenerationMatch (0 for "must not exist"); a conditional delete
// deletes exactly the named generation, which GCS does atomically.
package gcs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"cloud.google.com/go/storage"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/vire-dev/vire/backends/internal/objname"
	"github.com/vire-dev/vire/backends/internal/storekit"
	"github.com/vire-dev/vire/sdk"
)

const (
	mib              = 1 << 20
	defaultChunkSize = 16 * mib
	// chunkUnit is GCS's granularity for resumable upload chunks.
	chunkUnit    = 256 << 10
	maxChunkSize = 1 << 30
	metaKey      = "vire-key"
)

// Store is the GCS BlobStore. Create it with New and configure it with
// Configure before use.
type Store struct {
	log hclog.Logger
	cur storekit.Current[config]
}

type config struct {
	client    *storage.Client
	bucket    *storage.BucketHandle
	codec     *objname.Codec
	chunkSize int
}

// New returns an unconfigured store.
func New(logger hclog.Logger) *Store {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Store{log: logger, cur: storekit.Current[config]{Backend: "gcs"}}
}

var schema = sdk.ConfigSchema{Attributes: append(storekit.BucketAttributes(),
	sdk.Attribute{Name: "credentials_file", Type: sdk.TypeString, Default: "",
		Description: "Path of a service-account key file. Empty: Application Default Credentials, or none with endpoint."},
	sdk.Attribute{Name: "endpoint", Type: sdk.TypeString, Default: "",
		Description: "Base URL of a GCS emulator such as fake-gcs-server (http://host:port, or its JSON API root http://host:port/storage/v1/), used without authentication unless credentials_file is set. Empty: Google, or STORAGE_EMULATOR_HOST when that is set."},
	sdk.Attribute{Name: "chunk_size", Type: sdk.TypeNumber, Default: defaultChunkSize,
		Description: "Resumable upload chunk size in bytes, a multiple of 256 KiB; blobs up to one chunk go in one request. 0 sends every blob in one request."},
)}

// Schema declares the configuration.
func (s *Store) Schema() sdk.ConfigSchema { return schema }

// Capabilities: generation preconditions make writes and deletes atomic.
func (s *Store) Capabilities() sdk.BlobCapabilities {
	return sdk.BlobCapabilities{ConditionalWrite: true}
}

// Configure builds the client and checks that the bucket answers.
func (s *Store) Configure(ctx context.Context, v sdk.ConfigValue) error {
	var errs sdk.ConfigErrors
	bucket, codec := storekit.Bucket(v, &errs)
	// Both the base URL and the JSON API root (…/storage/v1/) are accepted.
	endpoint := strings.TrimSuffix(strings.TrimRight(v.String("endpoint"), "/"), "/storage/v1")
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			errs = append(errs, sdk.ConfigError{Attribute: "endpoint", Message: "must be an http:// or https:// base URL without credentials, such as http://127.0.0.1:4443"})
		}
	}
	chunk := defaultChunkSize
	if _, ok := v["chunk_size"]; ok {
		f := v.Number("chunk_size")
		if f != float64(int64(f)) || f < 0 || f > maxChunkSize || int64(f)%chunkUnit != 0 {
			errs = append(errs, sdk.ConfigError{Attribute: "chunk_size", Message: fmt.Sprintf("must be 0 or a multiple of %d bytes up to %d", chunkUnit, maxChunkSize)})
		} else {
			chunk = int(f)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	opts := []option.ClientOption{storage.WithJSONReads()}
	if f := v.String("credentials_file"); f != "" {
		opts = append(opts, option.WithAuthCredentialsFile(option.ServiceAccount, f))
	}
	if endpoint != "" {
		opts = append(opts, option.WithEndpoint(endpoint+"/storage/v1/"))
		if v.String("credentials_file") == "" {
			opts = append(opts, option.WithoutAuthentication())
		}
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return fmt.Errorf("gcs: creating client: %w", err)
	}
	c := &config{client: client, bucket: client.Bucket(bucket), codec: codec, chunkSize: chunk}
	if err := c.health(ctx); err != nil {
		client.Close()
		return err
	}
	if old := s.cur.Swap(c); old != nil {
		old.client.Close()
	}
	s.log.Debug("configured", "bucket", bucket, "prefix", codec.Prefix(), "endpoint", endpoint, "chunk_size", chunk)
	return nil
}

// health lists at most one object under the prefix: that needs only the
// object permissions the store needs anyway (reading bucket attributes
// would need storage.buckets.get, which object-level roles lack).
func (c *config) health(ctx context.Context) error {
	q := &storage.Query{Prefix: c.codec.Prefix()}
	if err := q.SetAttrSelection([]string{"Name"}); err != nil {
		return err
	}
	var page []*storage.ObjectAttrs
	_, err := iterator.NewPager(c.bucket.Objects(ctx, q), 1, "").NextPage(&page)
	if err != nil {
		if errors.Is(err, storage.ErrBucketNotExist) || httpStatus(err) == http.StatusNotFound {
			return fmt.Errorf("gcs: the bucket does not exist: %w", sdk.ErrUnavailable)
		}
		return fmt.Errorf("gcs: bucket: %w", classify(err))
	}
	return nil
}

// Health checks that the bucket answers.
func (s *Store) Health(ctx context.Context) error {
	c, err := s.cur.Get()
	if err != nil {
		return err
	}
	return c.health(ctx)
}

// Close closes the client.
func (s *Store) Close() error {
	c := s.cur.Swap(nil)
	if c == nil {
		return nil
	}
	return c.client.Close()
}

func httpStatus(err error) int {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// classify wraps err with the sdk kind GCS's answer means.
func classify(err error) error {
	return storekit.Classify(err, func(err error) error {
		switch status := httpStatus(err); {
		case errors.Is(err, storage.ErrBucketNotExist):
			return fmt.Errorf("%w: the bucket does not exist", sdk.ErrUnavailable)
		case errors.Is(err, storage.ErrObjectNotExist) || status == http.StatusNotFound:
			return sdk.ErrNotFound
		case status == http.StatusPreconditionFailed:
			return sdk.ErrPrecondition
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return sdk.ErrUnauthorized
		case status == http.StatusTooManyRequests:
			return &sdk.RateLimitError{Message: "GCS asked to slow down"}
		case status >= 500:
			return sdk.ErrUnavailable
		case status == http.StatusBadRequest:
			return sdk.ErrInvalidArgument
		}
		return nil
	})
}
