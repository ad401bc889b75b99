package servertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/sdk"
)

// TestEncryptedStoreOverSharedDir: two backends on one directory see the
// same blobs; a document stored through EncryptedStore is ciphertext on
// disk, readable by a store sealed with the same master key and by no
// store under another.
func TestEncryptedStoreOverSharedDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b1, b2 := FileBackend(t, dir), FileBackend(t, dir)
	const plain = "a note only the tenant may read"
	key := NewMasterKey()
	open := func(b sdk.BlobStore, masterKey string) *store.Store {
		s, err := store.New(store.Options{Backend: b, Sealer: EnvSealer(t, b, store.Layout{}, masterKey)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := open(b1, key).Put(ctx, "alice", "note", "n1", map[string]string{"text": plain}, store.PutOpts{}); err != nil {
		t.Fatal(err)
	}
	blobs := AllBlobs(t, b2)
	if len(blobs) == 0 {
		t.Fatal("the second backend sees no blobs")
	}
	for k, data := range blobs {
		if strings.Contains(string(data), plain) {
			t.Fatalf("blob %s holds the plaintext", k)
		}
	}
	var got map[string]string
	if _, err := open(b2, key).Get(ctx, "alice", "note", "n1", &got); err != nil || got["text"] != plain {
		t.Fatalf("same key: %v %v", got, err)
	}
	if _, err := open(b2, NewMasterKey()).Get(ctx, "alice", "note", "n1", &got); err == nil {
		t.Fatal("another master key read the document")
	}
	if s := EncryptedStore(t, store.Options{Backend: FileBackend(t, t.TempDir())}); !s.Encrypted() {
		t.Fatal("EncryptedStore is not encrypted")
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewClock(start)
	c.Add(90 * time.Second)
	if got, want := c.Now(), start.Add(90*time.Second); !got.Equal(want) {
		t.Fatalf("Now %v, want %v", got, want)
	}
}
