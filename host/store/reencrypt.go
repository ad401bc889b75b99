package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/sdk"
)

// ReEncryptProgress reports a ReEncrypt run so far.
type ReEncryptProgress struct {
	// DEKVersion is the data-key version documents are brought to.
	DEKVersion uint32 `json:"dek_version"`
	// Scanned counts documents examined.
	Scanned int `json:"scanned"`
	// Rewritten counts documents re-sealed with DEKVersion.
	Rewritten int `json:"rewritten"`
	// Current counts documents that already used DEKVersion (or newer).
	Current int `json:"current"`
	// Raced counts documents another writer rewrote while they were being
	// re-encrypted; that write already used the current key, so they were
	// left alone.
	Raced int `json:"raced"`
	// Vanished counts documents deleted during the run.
	Vanished int `json:"vanished"`
	// Failed counts documents that could not be opened or written; the run
	// continues past them and returns an error at the end.
	Failed int `json:"failed"`
	// Cursor resumes the run after the last completed page; "" once the
	// whole tenant has been walked.
	Cursor string `json:"cursor"`
}

// ReEncrypt rewrites every document of the tenant that is not sealed with
// the current DEK version (after crypt's RotateDEK, for example), starting
// at cursor ("" for the beginning). Each rewrite is conditional on the ETag
// it read, so it never overwrites a concurrent write. progress, when not
// nil, is called after every page with a cursor to resume from. Documents
// that fail are counted and skipped; the error returned at the end names the
// first of them.
//
// Other instances switch to a new DEK version within crypt's CacheTTL of the
// rotation; documents they write before that still use the previous key, so
// run ReEncrypt after that interval (or run it again: it only rewrites what
// is not current).
func (s *Store) ReEncrypt(ctx context.Context, tenant, cursor string, progress func(ReEncryptProgress)) (ReEncryptProgress, error) {
	var p ReEncryptProgress
	if s.sealer == nil {
		return p, fmt.Errorf("store: encryption is off, nothing to re-encrypt: %w", sdk.ErrUnsupported)
	}
	if _, err := s.layout.tenantPrefix(tenant); err != nil {
		return p, err
	}
	cur, err := s.sealer.CurrentVersion(ctx, tenant)
	if errors.Is(err, sdk.ErrNotFound) {
		return p, nil // no keyring: no sealed documents either
	}
	if err != nil {
		return p, fmt.Errorf("store: re-encrypting tenant %q: %w", tenant, err)
	}
	p.DEKVersion = cur
	p.Cursor = cursor
	var firstErr error
	err = s.walk(ctx, tenant, cursor, func(docs []docItem, next string) error {
		for _, d := range docs {
			if err := ctx.Err(); err != nil {
				return err
			}
			p.Scanned++
			if err := s.reencryptOne(ctx, d.r, cur, &p); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				p.Failed++
				if firstErr == nil {
					firstErr = err
				}
				s.log.Warn("re-encryption skipped a document", "tenant", tenant, "kind", d.kind, "error", err)
			}
		}
		p.Cursor = next
		if progress != nil {
			progress(p)
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	if firstErr != nil {
		return p, fmt.Errorf("store: re-encrypting tenant %q: %d documents failed, the first: %w", tenant, p.Failed, firstErr)
	}
	return p, nil
}

func (s *Store) reencryptOne(ctx context.Context, r ref, cur uint32, p *ReEncryptProgress) error {
	for attempt := 1; ; attempt++ {
		raw, m, err := s.b.Get(ctx, r.key)
		if errors.Is(err, sdk.ErrNotFound) {
			p.Vanished++
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", r.desc, err)
		}
		h, err := crypt.ParseHeader(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", r.desc, err)
		}
		if h.DEKVersion >= cur {
			if attempt == 1 {
				p.Current++
			} else {
				p.Raced++
			}
			return nil
		}
		plain, err := s.open(ctx, r, raw)
		if err != nil {
			return err
		}
		_, err = s.write(ctx, r, plain, PutOpts{IfMatch: m.ETag})
		clear(plain)
		if err == nil {
			p.Rewritten++
			return nil
		}
		if errors.Is(err, sdk.ErrNotFound) {
			p.Vanished++
			return nil
		}
		if !errors.Is(err, sdk.ErrPrecondition) || attempt >= s.maxAttempts {
			return err
		}
		// Someone wrote in between: look again.
	}
}
