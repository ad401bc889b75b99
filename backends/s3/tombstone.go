package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vire-dev/vire/sdk"
)

// A tombstone is what a conditional delete leaves in place of a blob (see
// the package comment): tombstonePrefix, a random nonce of tombstoneNonceLen
// hex digits and a newline, with the metaTombstone marker in its metadata.
//
// The nonce makes every tombstone's content, and so its ETag, unique: an
// If-Match on a tombstone's ETag can replace that tombstone only, never a
// later one nor a blob. A posix-backed gateway (versitygw) reads an object's
// attributes one at a time by path, so one response can carry the ETag of
// one version and the content of a later one; a tombstone is therefore told
// by its content (Put refuses every value of a tombstone's form), and a
// create takes a tombstone's ETag only once it has proved that the ETag is
// that tombstone's (see probe). Listings carry neither metadata nor
// content: an object of a tombstone's size costs a read there.
const (
	tombstonePrefix   = "vire tombstone: this key is deleted (see Vire's docs/backends.md) "
	tombstoneNonceLen = 32
	tombstoneSize     = len(tombstonePrefix) + tombstoneNonceLen + 1

	// legacyTombstone is the one content earlier versions gave every
	// tombstone. Such tombstones are still recognised so a key they hold can
	// be created again; none is written any more, so once replaced none
	// comes back, and an If-Match on their common ETag is safe.
	legacyTombstone = "vire tombstone: this key is deleted (see Vire's docs/backends.md)\n"
)

// maybeTombstone reports whether an object of size bytes can be a tombstone.
func maybeTombstone(size int64) bool {
	return size == int64(tombstoneSize) || size == int64(len(legacyTombstone))
}

// newTombstone returns a tombstone's content with a fresh nonce.
func newTombstone() string {
	var nonce [tombstoneNonceLen / 2]byte
	rand.Read(nonce[:]) // never fails (crypto/rand)
	return tombstonePrefix + hex.EncodeToString(nonce[:]) + "\n"
}

// isTombstoneContent reports whether b has a tombstone's form.
func isTombstoneContent(b []byte) bool {
	if string(b) == legacyTombstone {
		return true
	}
	if len(b) != tombstoneSize || !strings.HasPrefix(string(b), tombstonePrefix) || b[len(b)-1] != '\n' {
		return false
	}
	for _, ch := range b[len(tombstonePrefix) : len(b)-1] {
		if (ch < '0' || ch > '9') && (ch < 'a' || ch > 'f') {
			return false
		}
	}
	return true
}

// refuseReserved rejects the values a blob cannot hold.
func refuseReserved(data []byte) error {
	if isTombstoneContent(data) {
		return fmt.Errorf("s3: values of a tombstone's form are reserved: %w", sdk.ErrInvalidArgument)
	}
	return nil
}

// head is what one read of an object's start told.
type head struct {
	size    int64
	etag    *string
	mod     *time.Time
	ctype   *string
	md      map[string]string
	content []byte // the whole content when size may be a tombstone's
}

// tombstone reports whether the object read was a tombstone.
func (h head) tombstone() bool {
	return h.md[metaTombstone] != "" || isTombstoneContent(h.content)
}

// look reads the headers of the object at name and, when it is of a
// tombstone's size, its content. It uses a ranged GET rather than a HEAD:
// versitygw reads a GET's ETag before it opens the file, so the content is
// never older than the ETag, and a tombstone's ETag, being unique, is never
// current again once that tombstone is replaced; a HEAD can pair an older
// version's metadata with a tombstone's ETag.
func (c *config) look(ctx context.Context, name string) (head, error) {
	out, err := c.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(c.bucket), Key: aws.String(name),
		Range: aws.String(fmt.Sprintf("bytes=0-%d", tombstoneSize-1)),
	})
	if err != nil {
		if code, status := apiCode(err); code == "InvalidRange" || status == 416 {
			return c.lookEmpty(ctx, name) // no byte to range over
		}
		return head{}, err
	}
	defer out.Body.Close()
	h := head{etag: out.ETag, mod: out.LastModified, ctype: out.ContentType, md: out.Metadata,
		size: aws.ToInt64(out.ContentLength)}
	if cr := aws.ToString(out.ContentRange); cr != "" {
		// "bytes 0-N/TOTAL"
		_, total, _ := strings.Cut(cr, "/")
		n, perr := strconv.ParseInt(total, 10, 64)
		if perr != nil {
			return head{}, fmt.Errorf("s3: unreadable Content-Range %q: %w", cr, sdk.ErrUnavailable)
		}
		h.size = n
	}
	b, err := io.ReadAll(io.LimitReader(out.Body, int64(tombstoneSize)))
	if err != nil {
		return head{}, err
	}
	if maybeTombstone(h.size) {
		h.content = b
	}
	return h, nil
}

// lookEmpty is look for an object a range cannot read: an empty one, which
// is no tombstone by content.
func (c *config) lookEmpty(ctx context.Context, name string) (head, error) {
	out, err := c.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(name)})
	if err != nil {
		return head{}, err
	}
	return head{size: aws.ToInt64(out.ContentLength), etag: out.ETag, mod: out.LastModified,
		ctype: out.ContentType, md: out.Metadata}, nil
}

// screenTombstone turns a stream whose announced size is a tombstone's into
// ErrNotFound when its content is one; otherwise it returns an equivalent
// stream.
func screenTombstone(rc io.ReadCloser, size int64) (io.ReadCloser, error) {
	if !maybeTombstone(size) {
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

// objectState is what a create that lost its If-None-Match found.
type objectState int

const (
	stateAbsent objectState = iota
	stateTombstone
	stateLive
)

// probeReads bounds the reads probe spends proving a tombstone's ETag.
const probeReads = 3

// probe tells what holds name and, for a tombstone, returns that
// tombstone's own ETag, so an If-Match on it replaces exactly that
// tombstone or fails. A response's ETag may belong to an older version than
// its content (versitygw), and a blob written again with the same bytes has
// its old ETag again, so an unproven ETag could let a create overwrite a
// live blob. The ETag is proven either by being the MD5 of the tombstone's
// content, or by two successive reads returning the same tombstone with the
// same ETag: the nonce means that tombstone stood throughout, so the second
// read's ETag was read from it. When neither happens the create loses
// (ErrPrecondition) rather than guess.
func (c *config) probe(ctx context.Context, name string) (objectState, string, error) {
	var prev head
	for range probeReads {
		h, err := c.look(ctx, name)
		if err != nil {
			if isNotFound(err) {
				return stateAbsent, "", nil
			}
			return 0, "", fmt.Errorf("s3: put: %w", classify(err))
		}
		if !isTombstoneContent(h.content) {
			return stateLive, "", nil
		}
		etag := unquote(aws.ToString(h.etag))
		sum := md5.Sum(h.content)
		if etag == hex.EncodeToString(sum[:]) ||
			(string(prev.content) == string(h.content) && unquote(aws.ToString(prev.etag)) == etag) {
			return stateTombstone, etag, nil
		}
		prev = h
	}
	return stateLive, "", nil
}
