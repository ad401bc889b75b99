package testsvc

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestRedisAnswers(t *testing.T) {
	addr := Redis(t)
	if err := redisPing(context.Background(), addr); err != nil {
		t.Fatalf("redis at %s: %v", addr, err)
	}
}

func TestVersityGWBucket(t *testing.T) {
	endpoint, ak, sk := VersityGW(t)
	if ak == "" || sk == "" {
		t.Fatal("empty credentials")
	}
	CreateS3Bucket(t, endpoint, ak, sk, BucketName())
}

func TestFakeGCSBucket(t *testing.T) {
	host := FakeGCS(t)
	b := BucketName()
	CreateGCSBucket(t, host, b)
	resp, err := http.Get("http://" + host + "/storage/v1/b/" + b)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("bucket %s: %s", b, resp.Status)
	}
}

// TestServerStopsWithTest checks that cleanup ends the server process.
func TestServerStopsWithTest(t *testing.T) {
	var addr string
	t.Run("inner", func(t *testing.T) { addr = Redis(t) })
	if addr == "" {
		t.Skip("inner test did not start redis")
	}
	if err := redisPing(context.Background(), addr); err == nil {
		t.Fatalf("redis at %s still answers after its test ended", addr)
	}
}

func TestMissingBinarySkipsOrFails(t *testing.T) {
	if os.Getenv("TESTSVC_CHILD") == "1" {
		t.Setenv(ToolsEnv, t.TempDir())
		t.Setenv("PATH", t.TempDir())
		Redis(t)
		t.Fatal("Redis returned without a binary")
	}
	for _, tc := range []struct {
		require string
		wantErr bool
	}{{"", false}, {"1", true}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingBinarySkipsOrFails$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTSVC_CHILD=1", RequireEnv+"="+tc.require)
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.wantErr {
			t.Fatalf("%s=%q: err=%v, output:\n%s", RequireEnv, tc.require, err, out)
		}
		if !contains(out, "redis-server not found") || !contains(out, "make test-deps") {
			t.Fatalf("message does not name the binary and make test-deps:\n%s", out)
		}
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

func TestRedisUnixAnswers(t *testing.T) {
	sock := RedisUnix(t)
	if err := redisPingNet(context.Background(), "unix", sock); err != nil {
		t.Fatalf("redis at %s: %v", sock, err)
	}
}

// TestServerOutlivesLockedThreads: goroutines that lock their OS thread and
// return make the runtime end that thread; a server started by this package
// must not die with it (Pdeathsig is per thread).
func TestServerOutlivesLockedThreads(t *testing.T) {
	addr := Redis(t)
	for range 50 {
		done := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(done)
		}()
		<-done
	}
	time.Sleep(100 * time.Millisecond)
	if err := redisPing(context.Background(), addr); err != nil {
		t.Fatalf("redis died when locked threads ended: %v", err)
	}
}

func TestRedisTLSAnswers(t *testing.T) {
	addr, ca := RedisTLS(t)
	if addr == "" || ca == "" {
		t.Fatal("no address or CA")
	}
}
