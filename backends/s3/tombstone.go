package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vire-dev/vire/sdk"
)

// A tombstone is what a conditional delete leaves in place of a blob (see
// the package comment). It is told apart three ways, because a posix-backed
// gateway (versitygw) reads an object's attributes one at a time by path and
// can mix two versions in one response while the object is being replaced:
// by its metadata marker, by its content (Put refuses those exact bytes, so
// no blob has them), and, on servers whose ETags are MD5 digests, by its ETag.

// tombstoneMD5 is a tombstone's ETag where ETags are MD5 digests (AWS without
// SSE-KMS, versitygw, MinIO).
var tombstoneMD5 = func() string {
	sum := md5.Sum([]byte(tombstoneBody))
	return hex.EncodeToString(sum[:])
}()

func isTombstoneContent(b []byte) bool { return string(b) == tombstoneBody }

// isTombstoneHead reports whether an object's headers or listing entry name
// a tombstone.
func isTombstoneHead(etag string, md map[string]string) bool {
	return md[metaTombstone] != "" || unquote(etag) == tombstoneMD5
}

// refuseReserved rejects the one value a blob cannot hold.
func refuseReserved(data []byte) error {
	if isTombstoneContent(data) {
		return fmt.Errorf("s3: these exact bytes are reserved for tombstones: %w", sdk.ErrInvalidArgument)
	}
	return nil
}

// objectState is what a create that lost its If-None-Match found.
type objectState int

const (
	stateAbsent objectState = iota
	stateTombstone
	stateLive
)

// probe reads the start of the object at name. A tombstone is recognised by
// its content, and the ETag that comes with it is never newer than that
// content (versitygw reads the ETag before it opens the file), so an
// If-Match on it replaces that tombstone or fails — never a blob written
// after it.
func (c *config) probe(ctx context.Context, name string) (objectState, string, error) {
	out, err := c.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(c.bucket), Key: aws.String(name),
		Range: aws.String(fmt.Sprintf("bytes=0-%d", len(tombstoneBody))),
	})
	if err != nil {
		code, status := apiCode(err)
		switch {
		case isNotFound(err):
			return stateAbsent, "", nil
		case code == "InvalidRange" || status == 416:
			return stateLive, "", nil // an empty blob
		}
		return 0, "", fmt.Errorf("s3: put: %w", classify(err))
	}
	defer out.Body.Close()
	head, err := io.ReadAll(io.LimitReader(out.Body, int64(len(tombstoneBody))+1))
	if err != nil {
		return 0, "", fmt.Errorf("s3: put: reading: %w", classify(err))
	}
	if isTombstoneContent(head) {
		return stateTombstone, aws.ToString(out.ETag), nil
	}
	return stateLive, "", nil
}

// screenTombstone turns a stream whose announced size is a tombstone's into
// ErrNotFound when its content is one; otherwise it returns an equivalent
// stream.
func screenTombstone(rc io.ReadCloser, size int64) (io.ReadCloser, error) {
	if size != int64(len(tombstoneBody)) {
		return rc, nil
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, size+1))
	if err != nil {
		return nil, fmt.Errorf("s3: reading blob: %w", classify(err))
	}
	if isTombstoneContent(b) {
		return nil, fmt.Errorf("s3: %w", sdk.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}
