package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/vire-dev/vire/backends/internal/blobio"
	"github.com/vire-dev/vire/backends/internal/objname"
	"github.com/vire-dev/vire/sdk"
)

// cleanupTimeout bounds aborting a failed multipart upload, which runs even
// after the caller's context ended.
const cleanupTimeout = 30 * time.Second

// noRetry stops the SDK from resending a conditional request: a resent
// write that already succeeded would report a lost condition.
func noRetry(o *s3.Options) { o.RetryMaxAttempts = 1 }

func unquote(etag string) string { return strings.Trim(etag, `"`) }
func quote(etag string) string   { return `"` + unquote(etag) + `"` }

// serverTime is the Date of a response, or now when there is none.
func serverTime(md middleware.Metadata) time.Time {
	if t, ok := awsmiddleware.GetServerTime(md); ok {
		return t.UTC()
	}
	return time.Now().UTC().Truncate(time.Second)
}

// condition is a write's precondition in S3 terms.
type condition struct {
	ifMatch     *string
	ifNoneMatch *string
}

func (c condition) conditional() bool { return c.ifMatch != nil || c.ifNoneMatch != nil }

// putCondition is o's condition; o has passed storekit.CheckPut.
func putCondition(o sdk.PutOptions) condition {
	switch {
	case o.IfNoneMatch == "*":
		return condition{ifNoneMatch: aws.String("*")}
	case o.IfMatch != "":
		return condition{ifMatch: aws.String(quote(o.IfMatch))}
	}
	return condition{}
}

// object is what a write needs to know about its target.
type object struct {
	key, name   string
	metadata    map[string]string
	contentType string
}

func (c *config) object(key string, contentType string) object {
	name, overflow := c.codec.Name(key)
	md := map[string]string{}
	if overflow {
		md[metaKey] = objname.MetaValue(key)
	}
	if contentType == "" {
		contentType = defaultContentType
		md[metaNoType] = "1"
	}
	return object{key: key, name: name, metadata: md, contentType: contentType}
}

// Put stores data under key.
func (s *Store) Put(ctx context.Context, key string, data []byte, o sdk.PutOptions) (sdk.Meta, error) {
	c, err := s.cur.ForPut(key, o)
	if err != nil {
		return sdk.Meta{}, err
	}
	cond := putCondition(o)
	obj := c.object(key, o.ContentType)
	if int64(len(data)) > c.threshold {
		return s.putMultipart(ctx, c, obj, bytes.NewReader(data), int64(len(data)), cond)
	}
	return s.putSingle(ctx, c, obj, data, cond)
}

// PutReader stores exactly size bytes from r (size < 0: until EOF). Blobs up
// to multipart_threshold are read whole and sent in one request; larger ones
// are uploaded in parts and completed only once the stream has ended, so a
// failing or canceled stream stores nothing.
func (s *Store) PutReader(ctx context.Context, key string, r io.Reader, size int64, o sdk.PutOptions) (sdk.Meta, error) {
	c, err := s.cur.ForPut(key, o)
	if err != nil {
		return sdk.Meta{}, err
	}
	cond := putCondition(o)
	obj := c.object(key, o.ContentType)
	if size > c.threshold {
		return s.putMultipart(ctx, c, obj, io.LimitReader(r, size), size, cond)
	}
	if size >= 0 {
		buf := make([]byte, size)
		if n, err := blobio.ReadFull(ctx, r, buf); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return sdk.Meta{}, blobio.ShortStream("s3", int64(n), size)
			}
			return sdk.Meta{}, fmt.Errorf("s3: reading blob: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return sdk.Meta{}, err
		}
		return s.putSingle(ctx, c, obj, buf, cond)
	}
	// Unknown size: buffer up to one byte past the threshold to choose.
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(blobio.Reader(ctx, r), c.threshold+1)); err != nil {
		return sdk.Meta{}, fmt.Errorf("s3: reading blob: %w", err)
	}
	if int64(buf.Len()) > c.threshold {
		return s.putMultipart(ctx, c, obj, io.MultiReader(&buf, r), -1, cond)
	}
	if err := ctx.Err(); err != nil {
		return sdk.Meta{}, err
	}
	return s.putSingle(ctx, c, obj, buf.Bytes(), cond)
}

// putSingle writes a blob in one PutObject.
func (s *Store) putSingle(ctx context.Context, c *config, obj object, data []byte, cond condition) (sdk.Meta, error) {
	if err := refuseReserved(data); err != nil {
		return sdk.Meta{}, err
	}
	write := func(cond condition) (string, time.Time, error) {
		in := &s3.PutObjectInput{
			Bucket: aws.String(c.bucket), Key: aws.String(obj.name), Body: bytes.NewReader(data),
			ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String(obj.contentType),
			Metadata: obj.metadata, IfMatch: cond.ifMatch, IfNoneMatch: cond.ifNoneMatch,
		}
		var opts []func(*s3.Options)
		if cond.conditional() {
			opts = append(opts, noRetry)
		}
		out, err := c.client.PutObject(ctx, in, opts...)
		if err != nil {
			return "", time.Time{}, err
		}
		return unquote(aws.ToString(out.ETag)), serverTime(out.ResultMetadata), nil
	}
	etag, mod, err := s.conditionalWrite(ctx, c, obj, cond, write)
	if err != nil {
		return sdk.Meta{}, err
	}
	return sdk.Meta{Size: int64(len(data)), ETag: etag, Modified: mod, ContentType: reportedType(obj)}, nil
}

func reportedType(obj object) string {
	if obj.metadata[metaNoType] != "" {
		return ""
	}
	return obj.contentType
}

// conditionalWrite runs write under cond and turns S3's answers into sdk
// errors. A create (If-None-Match) that fails because the name holds a
// tombstone retries as a replacement of that tombstone (If-Match).
func (s *Store) conditionalWrite(ctx context.Context, c *config, obj object, cond condition,
	write func(condition) (string, time.Time, error)) (string, time.Time, error) {
	create := cond.ifNoneMatch != nil
	for attempt := 0; ; attempt++ {
		etag, mod, err := write(cond)
		if err == nil {
			return etag, mod, nil
		}
		if !cond.conditional() {
			return "", time.Time{}, fmt.Errorf("s3: put: %w", classify(err))
		}
		// If-Match on a missing object answers 404: the condition lost.
		if !isPrecondition(err) && !isNotFound(err) {
			return "", time.Time{}, fmt.Errorf("s3: put: %w", classify(err))
		}
		if !create || attempt+1 >= conditionalCreateAttempts {
			return "", time.Time{}, fmt.Errorf("s3: put: %w", sdk.ErrPrecondition)
		}
		// A create lost: is what holds the name only a tombstone?
		state, etag, err := c.probe(ctx, obj.name)
		if err != nil {
			return "", time.Time{}, err
		}
		switch state {
		case stateTombstone:
			cond = condition{ifMatch: aws.String(quote(etag))}
		case stateAbsent:
			cond = condition{ifNoneMatch: aws.String("*")} // gone meanwhile: create again
		default:
			return "", time.Time{}, fmt.Errorf("s3: put: %w", sdk.ErrPrecondition)
		}
	}
}

// putMultipart uploads r in parts and completes the upload under cond.
func (s *Store) putMultipart(ctx context.Context, c *config, obj object, r io.Reader, size int64, cond condition) (sdk.Meta, error) {
	partSize := c.partSize
	if size > 0 && (size+partSize-1)/partSize > maxParts {
		partSize = (size + maxParts - 1) / maxParts
	}
	// Fail early when the condition already lost; completion checks again.
	if err := s.precheck(ctx, c, obj, cond); err != nil {
		return sdk.Meta{}, err
	}
	up, err := c.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(c.bucket), Key: aws.String(obj.name),
		ContentType: aws.String(obj.contentType), Metadata: obj.metadata,
	})
	if err != nil {
		return sdk.Meta{}, fmt.Errorf("s3: starting multipart upload: %w", classify(err))
	}
	completed := false
	defer func() {
		if completed {
			return
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if _, err := c.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(c.bucket), Key: aws.String(obj.name), UploadId: up.UploadId,
		}); err != nil {
			s.log.Warn("could not abort a failed multipart upload; a bucket lifecycle rule should remove it", "error", err)
		}
	}()
	var parts []types.CompletedPart
	var total int64
	buf := make([]byte, partSize)
	for num := int32(1); ; num++ {
		n, rerr := blobio.ReadFull(ctx, r, buf)
		if rerr != nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
			return sdk.Meta{}, fmt.Errorf("s3: reading blob: %w", rerr)
		}
		if n > 0 {
			if num > maxParts {
				return sdk.Meta{}, fmt.Errorf("s3: blob needs more than %d parts of %d bytes: %w", maxParts, partSize, sdk.ErrInvalidArgument)
			}
			if err := ctx.Err(); err != nil {
				return sdk.Meta{}, err
			}
			out, err := c.client.UploadPart(ctx, &s3.UploadPartInput{
				Bucket: aws.String(c.bucket), Key: aws.String(obj.name), UploadId: up.UploadId,
				PartNumber: aws.Int32(num), Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
			})
			if err != nil {
				return sdk.Meta{}, fmt.Errorf("s3: uploading part %d: %w", num, classify(err))
			}
			parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
			total += int64(n)
		}
		if rerr != nil {
			break
		}
	}
	if size >= 0 && total != size {
		return sdk.Meta{}, blobio.ShortStream("s3", total, size)
	}
	if err := ctx.Err(); err != nil {
		return sdk.Meta{}, err
	}
	write := func(cond condition) (string, time.Time, error) {
		var opts []func(*s3.Options)
		if cond.conditional() {
			opts = append(opts, noRetry)
		}
		out, err := c.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String(c.bucket), Key: aws.String(obj.name), UploadId: up.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
			IfMatch:         cond.ifMatch, IfNoneMatch: cond.ifNoneMatch,
		}, opts...)
		if err != nil {
			return "", time.Time{}, err
		}
		return unquote(aws.ToString(out.ETag)), serverTime(out.ResultMetadata), nil
	}
	etag, mod, err := s.conditionalWrite(ctx, c, obj, cond, write)
	if err != nil {
		return sdk.Meta{}, err
	}
	completed = true
	return sdk.Meta{Size: total, ETag: etag, Modified: mod, ContentType: reportedType(obj)}, nil
}

// precheck fails a conditional write whose condition visibly lost already.
func (s *Store) precheck(ctx context.Context, c *config, obj object, cond condition) error {
	if !cond.conditional() {
		return nil
	}
	m, err := s.stat(ctx, c, obj.key)
	exists := err == nil
	if err != nil && !errors.Is(err, sdk.ErrNotFound) {
		return err
	}
	if (cond.ifNoneMatch != nil && exists) || (cond.ifMatch != nil && (!exists || quote(m.ETag) != *cond.ifMatch)) {
		return fmt.Errorf("s3: put: %w", sdk.ErrPrecondition)
	}
	return nil
}

// readMeta turns an object's headers into sdk.Meta, reporting a tombstone
// or another key's overflow object as absent.
func readMeta(key string, size *int64, etag *string, mod *time.Time, ctype *string, md map[string]string) (sdk.Meta, error) {
	if md[metaTombstone] != "" {
		return sdk.Meta{}, fmt.Errorf("s3: %w", sdk.ErrNotFound)
	}
	if v, ok := md[metaKey]; ok {
		stored, err := objname.ParseMetaValue(v)
		if err != nil || stored != key {
			// Two keys hashed to one overflow name: never hand over the
			// other key's blob.
			return sdk.Meta{}, fmt.Errorf("s3: overflow name holds another key: %w", sdk.ErrNotFound)
		}
	}
	m := sdk.Meta{Size: aws.ToInt64(size), ETag: unquote(aws.ToString(etag)), ContentType: aws.ToString(ctype)}
	if mod != nil {
		m.Modified = mod.UTC()
	}
	if md[metaNoType] != "" {
		m.ContentType = ""
	}
	return m, nil
}

func (s *Store) stat(ctx context.Context, c *config, key string) (sdk.Meta, error) {
	name, _ := c.codec.Name(key)
	h, err := c.look(ctx, name)
	if err != nil {
		return sdk.Meta{}, fmt.Errorf("s3: stat: %w", classify(err))
	}
	if h.tombstone() {
		return sdk.Meta{}, fmt.Errorf("s3: %w", sdk.ErrNotFound)
	}
	return readMeta(key, &h.size, h.etag, h.mod, h.ctype, h.md)
}

// Stat returns a blob's metadata.
func (s *Store) Stat(ctx context.Context, key string) (sdk.Meta, error) {
	c, err := s.cur.ForKey(key)
	if err != nil {
		return sdk.Meta{}, err
	}
	return s.stat(ctx, c, key)
}

// GetReader streams a blob.
func (s *Store) GetReader(ctx context.Context, key string) (io.ReadCloser, sdk.Meta, error) {
	c, err := s.cur.ForKey(key)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	name, _ := c.codec.Name(key)
	out, err := c.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(name)})
	if err != nil {
		return nil, sdk.Meta{}, fmt.Errorf("s3: get: %w", classify(err))
	}
	m, err := readMeta(key, out.ContentLength, out.ETag, out.LastModified, out.ContentType, out.Metadata)
	if err != nil {
		out.Body.Close()
		return nil, sdk.Meta{}, err
	}
	// The headers and the content may come from two versions on a posix
	// gateway: a tombstone's content is never a blob.
	body, err := screenTombstone(out.Body, m.Size)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	return blobio.SizedReader(ctx, body, m.Size, "s3", classify), m, nil
}

// Get returns a blob whole.
func (s *Store) Get(ctx context.Context, key string) ([]byte, sdk.Meta, error) {
	return blobio.Whole(s.GetReader(ctx, key))
}

// Delete removes a blob; with o.IfMatch, only that version of it.
func (s *Store) Delete(ctx context.Context, key string, o sdk.DeleteOptions) error {
	c, err := s.cur.ForKey(key)
	if err != nil {
		return err
	}
	name, _ := c.codec.Name(key)
	if o.IfMatch == "" {
		if _, err := s.stat(ctx, c, key); err != nil {
			return err
		}
		if _, err := c.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(name)}); err != nil {
			return fmt.Errorf("s3: delete: %w", classify(err))
		}
		return nil
	}
	// Replace exactly the version asked for by a fresh tombstone (its nonce
	// gives it an ETag no other object has): S3 lets one
	// conditional PutObject win, where conditional deletes of a missing
	// object all succeed. The tombstone stays: removing it would need a
	// conditional DeleteObject, which some servers (versitygw) evaluate
	// apart from the unlink, so a create that had just replaced the
	// tombstone could be deleted. The next write of the key replaces it.
	_, err = c.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(c.bucket), Key: aws.String(name), Body: strings.NewReader(newTombstone()),
		ContentLength: aws.Int64(int64(tombstoneSize)), ContentType: aws.String("text/plain"),
		Metadata: map[string]string{metaTombstone: "1"}, IfMatch: aws.String(quote(o.IfMatch)),
	}, noRetry)
	if err != nil {
		if isPrecondition(err) || isNotFound(err) {
			return fmt.Errorf("s3: delete: %w", sdk.ErrPrecondition)
		}
		return fmt.Errorf("s3: delete: %w", classify(err))
	}
	return nil
}
