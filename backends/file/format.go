package file

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
	"unicode/utf8"

	"github.com/vire-dev/vire/sdk"
)

// Blob file format
//
// A blob file is one header line followed by the blob's bytes, unchanged:
//
//	#vire-blob/1 {"etag":"5f0c…","content_type":"application/json"}\n
//	<data>
//
// The header is written before the data, so a blob can be streamed to disk
// without knowing its size; Size is the file size minus the header, and
// Modified is the file's modification time. A committed file is never
// written again (a write replaces it by rename), so an open file keeps
// describing one version.
//
// The ETag is a random 96-bit id (24 hex digits) chosen for every write, so
// it changes on every write, even of identical bytes, and never returns
// after a delete. It doubles as the version id in Versions.

const (
	headerMagic = "#vire-blob/1 "
	// maxHeader bounds a header: the magic, an ETag and a content type of at
	// most maxContentType bytes, even if JSON escapes every byte.
	maxHeader      = 8 << 10
	maxContentType = 1024
	etagBytes      = 12
)

type header struct {
	ETag        string `json:"etag"`
	ContentType string `json:"content_type,omitempty"`
}

func newETag() (string, error) {
	b := make([]byte, etagBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// validETag reports whether s could be an ETag this store issued; anything
// else can never match and is never used in a file name.
func validETag(s string) bool {
	if len(s) != 2*etagBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}

func checkContentType(ct string) error {
	if len(ct) > maxContentType || !utf8.ValidString(ct) {
		return fmt.Errorf("content type must be valid UTF-8 of at most %d bytes: %w", maxContentType, sdk.ErrInvalidArgument)
	}
	return nil
}

func encodeHeader(h header) []byte {
	j, _ := json.Marshal(h) // two strings: cannot fail
	out := make([]byte, 0, len(headerMagic)+len(j)+1)
	out = append(out, headerMagic...)
	out = append(out, j...)
	return append(out, '\n')
}

// errCorrupt marks a blob file whose header cannot be read.
var errCorrupt = errors.New("blob file has no valid header")

// parseHeader reads the header at the start of b and returns it with its
// length in bytes.
func parseHeader(b []byte) (header, int, error) {
	end := bytes.IndexByte(b, '\n')
	if end < 0 || !bytes.HasPrefix(b, []byte(headerMagic)) {
		return header{}, 0, errCorrupt
	}
	var h header
	if err := json.Unmarshal(b[len(headerMagic):end], &h); err != nil || h.ETag == "" {
		return header{}, 0, errCorrupt
	}
	return h, end + 1, nil
}

// readHeader reads the header of an open blob file and returns the blob's
// Meta and the offset where its data starts.
func readHeader(f *os.File) (sdk.Meta, int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return sdk.Meta{}, 0, err
	}
	if !fi.Mode().IsRegular() {
		return sdk.Meta{}, 0, errCorrupt
	}
	buf := make([]byte, min(fi.Size(), maxHeader))
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return sdk.Meta{}, 0, err
	}
	h, hlen, err := parseHeader(buf[:n])
	if err != nil {
		return sdk.Meta{}, 0, err
	}
	return metaOf(h, fi.Size()-int64(hlen), fi.ModTime()), int64(hlen), nil
}

func metaOf(h header, size int64, mod time.Time) sdk.Meta {
	return sdk.Meta{Size: size, ETag: h.ETag, Modified: mod, ContentType: h.ContentType}
}
