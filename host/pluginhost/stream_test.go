package pluginhost_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"testing"

	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/sdk"
)

// A 64 MiB blob must cross the boundary both ways, streamed and unary: the
// unary Put proves the plugin's receive limit is raised above gRPC's 4 MiB.
func TestLargeBlobsCrossTheBoundary(t *testing.T) {
	h := newHost(t, pluginhost.Options{HealthInterval: -1})
	_, bs := startFile(t, h, pluginhost.Spec{})
	ctx := context.Background()
	data := make([]byte, 64<<20)
	_, _ = rand.Read(data)
	want := sha256.Sum256(data)

	m, err := bs.PutReader(ctx, "big/stream", bytes.NewReader(data), int64(len(data)), sdk.PutOptions{})
	if err != nil || m.Size != int64(len(data)) {
		t.Fatalf("put reader: %+v %v", m, err)
	}
	rc, m, err := bs.GetReader(ctx, "big/stream")
	if err != nil || m.Size != int64(len(data)) {
		t.Fatalf("get reader: %+v %v", m, err)
	}
	hsh := sha256.New()
	n, err := io.Copy(hsh, rc)
	rc.Close()
	if err != nil || n != int64(len(data)) || !bytes.Equal(hsh.Sum(nil), want[:]) {
		t.Fatalf("streamed %d bytes, err %v, digest match %v", n, err, bytes.Equal(hsh.Sum(nil), want[:]))
	}

	if _, err := bs.Put(ctx, "big/unary", data, sdk.PutOptions{}); err != nil {
		t.Fatalf("unary put of 64 MiB: %v", err)
	}
	got, _, err := bs.Get(ctx, "big/unary")
	if err != nil || sha256.Sum256(got) != want {
		t.Fatalf("unary get: %d bytes, %v", len(got), err)
	}
}
