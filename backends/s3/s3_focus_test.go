package s3

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vire-dev/vire/backends/internal/objname"
	"github.com/vire-dev/vire/internal/backendtest"
	"github.com/vire-dev/vire/sdk"
)

// raw is a plain S3 client on the gateway, to look behind the store.
func (g gateway) raw() *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(g.endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(g.accessKey, g.secretKey, ""),
	})
}

func names(t *testing.T, g gateway, prefix string) []string {
	t.Helper()
	out, err := g.raw().ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(g.bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, o := range out.Contents {
		n = append(n, aws.ToString(o.Key))
	}
	return n
}

func TestConfigureErrors(t *testing.T) {
	const secret = "SECRETsecretSECRET123"
	for _, tc := range []struct {
		name string
		cfg  sdk.ConfigValue
		attr string
	}{
		{"no bucket", sdk.ConfigValue{"bucket": ""}, "bucket"},
		{"bad endpoint", sdk.ConfigValue{"bucket": "b", "endpoint": "ftp://x"}, "endpoint"},
		{"endpoint with credentials", sdk.ConfigValue{"bucket": "b", "endpoint": "http://u:" + secret + "@x"}, "endpoint"},
		{"secret without key id", sdk.ConfigValue{"bucket": "b", "secret_access_key": secret}, "access_key_id"},
		{"key id without secret", sdk.ConfigValue{"bucket": "b", "access_key_id": "AKIA"}, "secret_access_key"},
		{"small part", sdk.ConfigValue{"bucket": "b", "part_size": 1024}, "part_size"},
		{"fractional threshold", sdk.ConfigValue{"bucket": "b", "multipart_threshold": 6e6 + 0.5}, "multipart_threshold"},
		{"long prefix", sdk.ConfigValue{"bucket": "b", "prefix": strings.Repeat("p", 900)}, "prefix"},
	} {
		err := New(nil).Configure(t.Context(), tc.cfg)
		var ce sdk.ConfigErrors
		if !errors.As(err, &ce) || ce[0].Attribute != tc.attr {
			t.Errorf("%s: got %v, want a ConfigError on %q", tc.name, err, tc.attr)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error quotes a secret: %v", tc.name, err)
		}
	}
}

func TestWrongCredentialsAndMissingBucket(t *testing.T) {
	g := startGateway(t)
	cfg := g.config(nil)
	cfg["secret_access_key"] = "wrong-secret-value-1234"
	err := New(nil).Configure(t.Context(), cfg)
	if !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("wrong secret: got %v, want ErrUnauthorized", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong-secret-value-1234") {
		t.Errorf("error quotes the secret: %v", err)
	}
	cfg = g.config(sdk.ConfigValue{"bucket": "no-such-bucket"})
	if err := New(nil).Configure(t.Context(), cfg); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("missing bucket: got %v, want ErrUnavailable", err)
	}
}

func TestDefaultCredentialChain(t *testing.T) {
	g := startGateway(t)
	t.Setenv("AWS_ACCESS_KEY_ID", g.accessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", g.secretKey)
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	cfg := g.config(nil)
	delete(cfg, "access_key_id")
	delete(cfg, "secret_access_key")
	s := New(nil)
	if err := s.Configure(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), "k", []byte("v"), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestObjectNames pins the documented naming scheme.
func TestObjectNames(t *testing.T) {
	g := startGateway(t)
	s := open(t, g, sdk.ConfigValue{"prefix": "names/"})
	for _, k := range []string{"users/alice/Doc.json", strings.Repeat("\xff", 1024)} {
		if _, err := s.Put(t.Context(), k, []byte("x"), sdk.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	got := names(t, g, "names/")
	if len(got) != 2 || got[0] != "names/users-2Falice-2F_44oc-2Ejson!" {
		t.Fatalf("names %q", got)
	}
	long := got[1]
	if len(long) > objname.MaxName || !strings.HasPrefix(long, "names/~FF~FF") || !strings.Contains(strings.ReplaceAll(long, "/", ""), "~~") {
		t.Errorf("overflow name %q (%d bytes)", long, len(long))
	}
	h, err := g.raw().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(g.bucket), Key: aws.String(long)})
	if err != nil || h.Metadata[metaKey] != objname.MetaValue(strings.Repeat("\xff", 1024)) {
		t.Errorf("overflow object metadata %v, %v", h.Metadata, err)
	}
}

// TestOverflowNameOfAnotherKey: an object at an overflow name whose stored
// key differs (a hash collision, or a foreign write) is never handed out.
func TestOverflowNameOfAnotherKey(t *testing.T) {
	g := startGateway(t)
	s := open(t, g, nil)
	c, _ := s.cur.Get()
	key := strings.Repeat("K", 400)
	name, overflow := c.codec.Name(key)
	if !overflow {
		t.Fatal("key should overflow")
	}
	_, err := g.raw().PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(g.bucket), Key: aws.String(name),
		Body: strings.NewReader("other"), Metadata: map[string]string{metaKey: objname.MetaValue("other key")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(t.Context(), key); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Get: %v, want ErrNotFound", err)
	}
	page, err := s.List(t.Context(), sdk.ListOptions{})
	if err != nil || len(page.Items) != 0 {
		t.Errorf("List: %d items, %v", len(page.Items), err)
	}
}

// TestLingeringTombstone: a tombstone left by a deleter that died before
// removing it reads as absent, is skipped by List, and does not block a
// create.
func TestLingeringTombstone(t *testing.T) {
	g := startGateway(t)
	s := open(t, g, nil)
	ctx := t.Context()
	c, _ := s.cur.Get()
	name, _ := c.codec.Name("gone")
	if _, err := g.raw().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(g.bucket), Key: aws.String(name),
		Body: strings.NewReader(newTombstone()), Metadata: map[string]string{metaTombstone: "1"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, "gone"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Get: %v", err)
	}
	if _, err := s.Stat(ctx, "gone"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Stat: %v", err)
	}
	if err := s.Delete(ctx, "gone", sdk.DeleteOptions{}); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Delete: %v", err)
	}
	if page, err := s.List(ctx, sdk.ListOptions{}); err != nil || len(page.Items) != 0 {
		t.Errorf("List: %v, %v", page.Items, err)
	}
	// A real blob of the tombstone's size is listed.
	if _, err := s.Put(ctx, "same-size", []byte(strings.Repeat("s", tombstoneSize)), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if page, err := s.List(ctx, sdk.ListOptions{}); err != nil || len(page.Items) != 1 || page.Items[0].Key != "same-size" {
		t.Errorf("List: %v, %v", page.Items, err)
	}
	m, err := s.Put(ctx, "gone", []byte("back"), sdk.PutOptions{IfNoneMatch: "*"})
	if err != nil {
		t.Fatalf("create over a tombstone: %v", err)
	}
	if _, err := s.Put(ctx, "gone", []byte("again"), sdk.PutOptions{IfNoneMatch: "*"}); !errors.Is(err, sdk.ErrPrecondition) {
		t.Errorf("second create: %v", err)
	}
	if got, gm, err := s.Get(ctx, "gone"); err != nil || string(got) != "back" || gm.ETag != m.ETag {
		t.Errorf("Get = %q, %v", got, err)
	}
}

func pendingUploads(t *testing.T, g gateway) int {
	t.Helper()
	out, err := g.raw().ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(g.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

func TestMultipartUploads(t *testing.T) {
	g := startGateway(t)
	s := open(t, g, sdk.ConfigValue{"multipart_threshold": minPartSize, "part_size": minPartSize})
	ctx := t.Context()
	data := bytes.Repeat([]byte("0123456789abcdef"), (11<<20)/16+3)
	m, err := s.PutReader(ctx, "big", iotest.HalfReader(bytes.NewReader(data)), -1, sdk.PutOptions{IfNoneMatch: "*"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(m.ETag, "-3") {
		t.Errorf("ETag %q: want a three-part multipart ETag", m.ETag)
	}
	// A losing conditional completion stores nothing and leaves no upload.
	if _, err := s.Put(ctx, "big", data, sdk.PutOptions{IfNoneMatch: "*"}); !errors.Is(err, sdk.ErrPrecondition) {
		t.Errorf("second create: %v", err)
	}
	if _, err := s.Put(ctx, "big", data, sdk.PutOptions{IfMatch: "stale"}); !errors.Is(err, sdk.ErrPrecondition) {
		t.Errorf("stale IfMatch: %v", err)
	}
	m2, err := s.Put(ctx, "big", data[:len(data)-1], sdk.PutOptions{IfMatch: m.ETag})
	if err != nil {
		t.Fatalf("IfMatch current: %v", err)
	}
	// A failing stream aborts its upload.
	bad := io.MultiReader(bytes.NewReader(data), iotest.ErrReader(errors.New("boom")))
	if _, err := s.PutReader(ctx, "big", bad, -1, sdk.PutOptions{}); err == nil {
		t.Error("failing stream accepted")
	}
	if n := pendingUploads(t, g); n != 0 {
		t.Errorf("%d multipart uploads left behind", n)
	}
	got, gm, err := s.Get(ctx, "big")
	if err != nil || !bytes.Equal(got, data[:len(data)-1]) || gm.ETag != m2.ETag {
		t.Errorf("Get: %d bytes, etag %q, %v", len(got), gm.ETag, err)
	}
}

func TestEmptyContentTypeRoundTrips(t *testing.T) {
	backendtest.EmptyContentTypeRoundTrips(t, open(t, startGateway(t), nil))
}

// TestConditionalDeleteLeavesTombstone: the blob is replaced by a tombstone
// that reads as absent and that no stale ETag can overwrite.
func TestConditionalDeleteLeavesTombstone(t *testing.T) {
	g := startGateway(t)
	s := open(t, g, sdk.ConfigValue{"prefix": "cd/"})
	ctx := t.Context()
	m, err := s.Put(ctx, "k", []byte("v1"), sdk.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "k", sdk.DeleteOptions{IfMatch: m.ETag}); err != nil {
		t.Fatal(err)
	}
	h, err := g.raw().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(g.bucket), Key: aws.String("cd/k!")})
	if err != nil || h.Metadata[metaTombstone] == "" || aws.ToInt64(h.ContentLength) != int64(tombstoneSize) {
		t.Fatalf("after a conditional delete the object is %v, %v; want a tombstone", h, err)
	}
	if _, err := s.Put(ctx, "k", []byte("v2"), sdk.PutOptions{IfMatch: m.ETag}); !errors.Is(err, sdk.ErrPrecondition) {
		t.Errorf("stale IfMatch over a tombstone: %v", err)
	}
	if err := s.Delete(ctx, "k", sdk.DeleteOptions{}); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Delete of a tombstoned key: %v", err)
	}
	if page, err := s.List(ctx, sdk.ListOptions{}); err != nil || len(page.Items) != 0 {
		t.Errorf("List: %v, %v", page.Items, err)
	}
	if _, err := s.Put(ctx, "k", []byte("v3"), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.Get(ctx, "k"); err != nil || string(got) != "v3" {
		t.Errorf("Get after rewrite: %q, %v", got, err)
	}
}

func TestTombstoneBytesAreReservedAndScreened(t *testing.T) {
	g := startGateway(t)
	s := open(t, g, nil)
	ctx := t.Context()
	for _, err := range []error{
		func() error { _, err := s.Put(ctx, "k", []byte(newTombstone()), sdk.PutOptions{}); return err }(),
		func() error {
			_, err := s.PutReader(ctx, "k", strings.NewReader(newTombstone()), -1, sdk.PutOptions{})
			return err
		}(),
	} {
		if !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("writing the tombstone bytes: %v, want ErrInvalidArgument", err)
		}
	}
	// Tombstone content under headers that do not say so (what a read racing
	// a replacement can see on versitygw) still reads as absent.
	c, _ := s.cur.Get()
	name, _ := c.codec.Name("torn")
	if _, err := g.raw().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(g.bucket), Key: aws.String(name),
		Body: strings.NewReader(newTombstone())}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, "torn"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Get: %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, "torn"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Stat (tombstone content without its marker): %v, want ErrNotFound", err)
	}
	// A blob of a tombstone's size that is no tombstone reads normally.
	other := strings.Repeat("x", tombstoneSize)
	if _, err := s.Put(ctx, "same-size", []byte(other), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.Get(ctx, "same-size"); err != nil || string(got) != other {
		t.Errorf("Get same-size: %q, %v", got, err)
	}
	rc, _, err := s.GetReader(ctx, "same-size")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != other {
		t.Errorf("GetReader same-size: %q, %v", got, err)
	}
}
