package sdk

import (
	"context"
	"io"
	"time"
)

// Meta describes a stored blob.
type Meta struct {
	Size        int64     `json:"size"`
	ETag        string    `json:"etag"`
	Modified    time.Time `json:"modified"`
	ContentType string    `json:"content_type,omitempty"`
}

// PutOptions make a write conditional and label its content.
type PutOptions struct {
	// IfMatch, when set, lets the write succeed only if the current ETag
	// equals it; otherwise the write fails with ErrPrecondition.
	IfMatch string
	// IfNoneMatch, when "*", lets the write succeed only if the key does not
	// exist yet. No other value is accepted.
	IfNoneMatch string
	// ContentType is stored with the blob and returned in Meta.
	ContentType string
}

// DeleteOptions make a delete conditional.
type DeleteOptions struct {
	// IfMatch, when set, deletes only if the current ETag equals it.
	IfMatch string
}

// ListOptions select a page of keys.
type ListOptions struct {
	// Prefix restricts the listing to keys that start with it (byte-wise).
	Prefix string
	// Cursor is the NextCursor of the previous page; empty for the first page.
	Cursor string
	// Limit caps the page size; zero or negative means the store's default.
	Limit int
}

// ListItem is one key in a listing.
type ListItem struct {
	Key  string `json:"key"`
	Meta Meta   `json:"meta"`
}

// ListPage is one page of a listing, in ascending byte order of key. Keys are
// unique across pages. A key that exists for the whole listing appears exactly
// once; a key created or deleted during the listing may or may not appear.
type ListPage struct {
	Items []ListItem
	// NextCursor is empty on the last page.
	NextCursor string
}

// BlobCapabilities say what a store guarantees beyond the basic contract.
type BlobCapabilities struct {
	// ConditionalWrite: IfMatch and IfNoneMatch are enforced atomically. A
	// store without it returns ErrUnsupported for conditional operations and
	// must not be shared by several vire-server instances.
	ConditionalWrite bool `json:"conditional_write"`
	// Versions: the store keeps earlier versions of a blob (see Versioned).
	Versions bool `json:"versions"`
}

// BlobStore is a key-value store of opaque blobs with ETags and conditional
// writes: the storage backend contract.
//
// Keys are arbitrary byte strings up to MaxKeyLength bytes; a store must
// never let a key escape its namespace (a key such as "../x" is just a name).
// An empty key is ErrInvalidArgument. Every error that means "no such key"
// wraps ErrNotFound; every lost condition wraps ErrPrecondition.
type BlobStore interface {
	Plugin

	Capabilities() BlobCapabilities
	Get(ctx context.Context, key string) ([]byte, Meta, error)
	// GetReader streams a blob. The caller must Close the reader.
	GetReader(ctx context.Context, key string) (io.ReadCloser, Meta, error)
	Put(ctx context.Context, key string, data []byte, o PutOptions) (Meta, error)
	// PutReader stores exactly size bytes read from r (size < 0: until EOF).
	// Nothing becomes visible unless the whole stream was read.
	PutReader(ctx context.Context, key string, r io.Reader, size int64, o PutOptions) (Meta, error)
	Delete(ctx context.Context, key string, o DeleteOptions) error
	Stat(ctx context.Context, key string) (Meta, error)
	List(ctx context.Context, o ListOptions) (ListPage, error)
	Close() error
}

// Version is one retained version of a blob, newest first in listings.
type Version struct {
	ID   string `json:"id"`
	Meta Meta   `json:"meta"`
}

// Versioned is implemented by stores that keep earlier versions of a blob
// (BlobCapabilities.Versions).
type Versioned interface {
	Versions(ctx context.Context, key string) ([]Version, error)
	GetVersion(ctx context.Context, key, id string) ([]byte, Meta, error)
}

// MaxKeyLength is the longest key every store must accept.
const MaxKeyLength = 1024
