package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// ArchiveFormat is the version of the export format.
const ArchiveFormat = 1

// An archive is JSON lines: one header object, then one object per document
// with the document itself inline as JSON. Documents are plaintext: an
// archive of an encrypted tenant must be protected like the data itself.
type archiveHeader struct {
	Format  int       `json:"vire_export"`
	Tenant  string    `json:"tenant"`
	Created time.Time `json:"created"`
}

type archiveDoc struct {
	Kind     string          `json:"kind"`
	Name     string          `json:"name"`
	Modified time.Time       `json:"modified"`
	Doc      json.RawMessage `json:"doc"`
}

// Export writes every document of the tenant, decrypted, to w as an archive
// and returns how many it wrote. Documents deleted during the export are
// left out; the export is not a point-in-time snapshot.
func (s *Store) Export(ctx context.Context, tenant string, w io.Writer) (int, error) {
	if _, err := s.layout.tenantPrefix(tenant); err != nil {
		return 0, err
	}
	enc := json.NewEncoder(w)
	if err := enc.Encode(archiveHeader{Format: ArchiveFormat, Tenant: tenant, Created: time.Now().UTC()}); err != nil {
		return 0, fmt.Errorf("store: writing export: %w", err)
	}
	n := 0
	err := s.walk(ctx, tenant, "", func(docs []docItem, _ string) error {
		for _, d := range docs {
			data, m, err := s.read(ctx, d.r)
			if errors.Is(err, sdk.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !json.Valid(data) {
				return fmt.Errorf("store: exporting %s: the stored document is not JSON: %w", d.r.desc, sdk.ErrIntegrity)
			}
			if err := enc.Encode(archiveDoc{Kind: d.kind, Name: d.name, Modified: m.Modified, Doc: data}); err != nil {
				return fmt.Errorf("store: writing export: %w", err)
			}
			n++
		}
		return nil
	})
	return n, err
}

// Import writes every document of an archive into the tenant (any tenant:
// archives move between tenants and stores), sealing them with the target
// tenant's key when encryption is on. Documents of the same kind and name
// are overwritten; others are left alone. It returns how many it wrote.
func (s *Store) Import(ctx context.Context, tenant string, r io.Reader) (int, error) {
	if _, err := s.layout.tenantPrefix(tenant); err != nil {
		return 0, err
	}
	dec := json.NewDecoder(r)
	var h archiveHeader
	if err := dec.Decode(&h); err != nil {
		return 0, fmt.Errorf("store: reading the archive header: %v: %w", err, sdk.ErrInvalidArgument)
	}
	if h.Format != ArchiveFormat {
		return 0, fmt.Errorf("store: not a Vire export of format %d (vire_export is %d): %w", ArchiveFormat, h.Format, sdk.ErrInvalidArgument)
	}
	n := 0
	for {
		var d archiveDoc
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("store: reading archive entry %d: %v: %w", n+1, err, sdk.ErrInvalidArgument)
		}
		if len(d.Doc) == 0 {
			return n, fmt.Errorf("store: archive entry %d (%s %q) has no document: %w", n+1, d.Kind, d.Name, sdk.ErrInvalidArgument)
		}
		if _, err := s.PutBytes(ctx, tenant, d.Kind, d.Name, d.Doc, PutOpts{}); err != nil {
			return n, fmt.Errorf("store: importing entry %d: %w", n+1, err)
		}
		n++
	}
}
