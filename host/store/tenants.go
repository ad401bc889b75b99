package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/sdk"
)

// Tenants returns the id of every tenant that has at least one blob (a
// document or a keyring) in the store, in byte order. A personal store has
// exactly one, its implicit tenant, whether or not it holds anything yet.
//
// In the hosted layout this lists every key under users/, so it costs one
// listing call per page of blobs: an operator's tool, not a request path.
func (s *Store) Tenants(ctx context.Context) ([]string, error) {
	if s.layout.Personal {
		return []string{s.layout.personalTenant()}, nil
	}
	var out []string
	cursor := ""
	for {
		p, err := s.b.List(ctx, sdk.ListOptions{Prefix: usersPrefix, Cursor: cursor, Limit: s.pageSize})
		if err != nil {
			return nil, fmt.Errorf("store: listing tenants: %w", err)
		}
		for _, it := range p.Items {
			id, _, found := strings.Cut(strings.TrimPrefix(it.Key, usersPrefix), "/")
			if !found || ValidateTenant(id) != nil {
				continue // not a tenant's blob
			}
			if len(out) == 0 || out[len(out)-1] != id {
				out = append(out, id)
			}
		}
		if p.NextCursor == "" {
			return out, nil
		}
		cursor = p.NextCursor
	}
}

// KeyUsage counts a tenant's documents by how they are stored, read from
// each blob's envelope header without decrypting anything.
type KeyUsage struct {
	// Documents is the number of documents examined.
	Documents int `json:"documents"`
	// DEKVersions counts sealed documents by the data-key version that
	// sealed them.
	DEKVersions map[uint32]int `json:"dek_versions"`
	// Providers counts sealed documents by the key-provider id in their
	// header; one other than the configured provider's cannot be opened.
	Providers map[string]int `json:"providers"`
	// Plaintext counts documents that are not sealed (written while
	// encryption was off).
	Plaintext int `json:"plaintext"`
	// Unreadable counts documents whose header is damaged or truncated.
	Unreadable int `json:"unreadable"`
}

// headerReadSize is the longest envelope header plus the tag: enough for
// crypt.ParseHeader to accept a blob's first bytes.
const headerReadSize = len(crypt.Magic) + 1 + 1 + crypt.MaxProviderIDLength + 4 + crypt.NonceSize + crypt.TagSize

// KeyUsage walks the tenant's documents and reads the first bytes of each
// to count them by data-key version, for `vire-server keys status` and for
// checking that a re-encryption is complete. Documents deleted during the
// walk are left out.
func (s *Store) KeyUsage(ctx context.Context, tenant string) (KeyUsage, error) {
	u := KeyUsage{DEKVersions: map[uint32]int{}, Providers: map[string]int{}}
	err := s.walk(ctx, tenant, "", func(docs []docItem, _ string) error {
		for _, d := range docs {
			head, err := s.readHead(ctx, d.r.key)
			if errors.Is(err, sdk.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("store: reading %s: %w", d.r.desc, err)
			}
			u.Documents++
			h, err := crypt.ParseHeader(head)
			switch {
			case errors.Is(err, crypt.ErrNotEncrypted):
				u.Plaintext++
			case err != nil:
				u.Unreadable++
			default:
				u.DEKVersions[h.DEKVersion]++
				u.Providers[h.ProviderID]++
			}
		}
		return nil
	})
	return u, err
}

// readHead returns up to headerReadSize bytes from the start of a blob.
func (s *Store) readHead(ctx context.Context, key string) ([]byte, error) {
	rc, _, err := s.b.GetReader(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	buf := make([]byte, headerReadSize)
	n, err := io.ReadFull(rc, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:n], nil
}
