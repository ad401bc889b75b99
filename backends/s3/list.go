package s3

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vire-dev/vire/backends/internal/objname"
	"github.com/vire-dev/vire/sdk"
)

// List returns one page of keys in ascending byte order.
func (s *Store) List(ctx context.Context, o sdk.ListOptions) (sdk.ListPage, error) {
	c, err := s.cur.Get()
	if err != nil {
		return sdk.ListPage{}, err
	}
	return c.codec.List(ctx, lister{c}, o)
}

// lister reads a bucket for objname.List.
type lister struct{ c *config }

func (l lister) ListNames(ctx context.Context, prefix, startAfter string, limit int) ([]objname.Object, bool, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(l.c.bucket), MaxKeys: aws.Int32(int32(limit))}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	out, err := l.c.client.ListObjectsV2(ctx, in)
	if err != nil {
		return nil, false, fmt.Errorf("s3: list: %w", classify(err))
	}
	objs := make([]objname.Object, 0, len(out.Contents))
	for _, o := range out.Contents {
		m := sdk.Meta{Size: aws.ToInt64(o.Size), ETag: unquote(aws.ToString(o.ETag))}
		if o.LastModified != nil {
			m.Modified = o.LastModified.UTC()
		}
		objs = append(objs, objname.Object{Name: aws.ToString(o.Key), Meta: m})
	}
	return objs, aws.ToBool(out.IsTruncated), nil
}

// Resolve reads an overflow name (its key is in the metadata) and an
// object of exactly a tombstone's size (it may be one); every other object
// is what its name says.
func (l lister) Resolve(ctx context.Context, o objname.Object, p objname.Parsed) (string, sdk.Meta, bool, error) {
	if !p.Overflow && !maybeTombstone(o.Meta.Size) {
		return p.Key, o.Meta, true, nil
	}
	h, err := l.c.look(ctx, o.Name)
	if err != nil {
		if isNotFound(err) {
			return "", sdk.Meta{}, false, nil // deleted since it was listed
		}
		return "", sdk.Meta{}, false, fmt.Errorf("s3: list: %w", classify(err))
	}
	if h.tombstone() {
		return "", sdk.Meta{}, false, nil
	}
	key := p.Key
	if p.Overflow {
		k, err := objname.ParseMetaValue(h.md[metaKey])
		if name, _ := l.c.codec.Name(k); err != nil || name != o.Name {
			return "", sdk.Meta{}, false, nil // not written by this store
		}
		key = k
	}
	m, err := readMeta(key, &h.size, h.etag, h.mod, h.ctype, h.md)
	if err != nil {
		return "", sdk.Meta{}, false, nil
	}
	m.ContentType = "" // listings carry no content type
	return key, m, true, nil
}
