package storekit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

func TestCheckPut(t *testing.T) {
	long := strings.Repeat("k", sdk.MaxKeyLength+1)
	for _, tc := range []struct {
		key  string
		o    sdk.PutOptions
		want error
	}{
		{"k", sdk.PutOptions{}, nil},
		{"k", sdk.PutOptions{IfNoneMatch: "*"}, nil},
		{"k", sdk.PutOptions{IfMatch: "e"}, nil},
		{strings.Repeat("k", sdk.MaxKeyLength), sdk.PutOptions{}, nil},
		{"", sdk.PutOptions{}, sdk.ErrInvalidArgument},
		{long, sdk.PutOptions{}, sdk.ErrInvalidArgument},
		{"k", sdk.PutOptions{IfNoneMatch: "e"}, sdk.ErrInvalidArgument},
	} {
		err := CheckPut(tc.key, tc.o)
		if (tc.want == nil) != (err == nil) || !errors.Is(err, tc.want) {
			t.Errorf("CheckPut(%d-byte key, %+v) = %v, want %v", len(tc.key), tc.o, err, tc.want)
		}
		if tc.o.IfNoneMatch == "" {
			if got := CheckKey(tc.key); (got == nil) != (err == nil) {
				t.Errorf("CheckKey(%d-byte key) = %v, CheckPut = %v", len(tc.key), got, err)
			}
		}
	}
	if err := CheckKey(long); !strings.Contains(err.Error(), fmt.Sprint(sdk.MaxKeyLength+1)) {
		t.Errorf("CheckKey names no length: %v", err)
	}
}

func TestCurrent(t *testing.T) {
	type conf struct{ n int }
	cur := Current[conf]{Backend: "test"}
	for name, get := range map[string]func() (*conf, error){
		"Get":    cur.Get,
		"ForKey": func() (*conf, error) { return cur.ForKey("k") },
		"ForPut": func() (*conf, error) { return cur.ForPut("k", sdk.PutOptions{}) },
	} {
		if c, err := get(); c != nil || !errors.Is(err, sdk.ErrUnavailable) || !strings.HasPrefix(err.Error(), "test: store is not configured") {
			t.Errorf("%s unconfigured = %v, %v", name, c, err)
		}
	}
	// Argument errors come first, configured or not.
	if _, err := cur.ForKey(""); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("ForKey of an empty key = %v", err)
	}
	if _, err := cur.ForPut("k", sdk.PutOptions{IfNoneMatch: "x"}); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("ForPut with a bad IfNoneMatch = %v", err)
	}
	one, two := &conf{1}, &conf{2}
	if old := cur.Swap(one); old != nil {
		t.Errorf("first Swap returned %v", old)
	}
	if c, err := cur.ForKey("k"); c != one || err != nil {
		t.Errorf("ForKey = %v, %v", c, err)
	}
	if old := cur.Swap(two); old != one {
		t.Errorf("Swap returned %v, want the first configuration", old)
	}
	if c, err := cur.ForPut("k", sdk.PutOptions{IfNoneMatch: "*"}); c != two || err != nil {
		t.Errorf("ForPut = %v, %v", c, err)
	}
	if old := cur.Swap(nil); old != two {
		t.Errorf("Swap(nil) returned %v", old)
	}
	if _, err := cur.Get(); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Get after Swap(nil) = %v", err)
	}
}

// TestCurrentConcurrent reads while the configuration changes; run it with
// -race.
func TestCurrentConcurrent(t *testing.T) {
	cur := Current[int]{Backend: "test"}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				if c, err := cur.Get(); err == nil && *c < 0 {
					t.Error("negative configuration")
				}
			}
		})
	}
	for i := range 1000 {
		cur.Swap(&i)
	}
	wg.Wait()
}

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    sdk.ConfigValue
		want int64
		bad  bool
	}{
		{"absent", sdk.ConfigValue{}, 50, false},
		{"low end", sdk.ConfigValue{"size": 10}, 10, false},
		{"high end", sdk.ConfigValue{"size": 100.0}, 100, false},
		{"below", sdk.ConfigValue{"size": 9}, 50, true},
		{"above", sdk.ConfigValue{"size": 101}, 50, true},
		{"fraction", sdk.ConfigValue{"size": 20.5}, 50, true},
		{"huge", sdk.ConfigValue{"size": 1e30}, 50, true},
		{"negative", sdk.ConfigValue{"size": -20}, 50, true},
	} {
		var errs sdk.ConfigErrors
		got := ByteSize(tc.v, "size", 50, 10, 100, &errs)
		if got != tc.want || (len(errs) > 0) != tc.bad {
			t.Errorf("%s: got %d, errors %v", tc.name, got, errs)
		}
		if tc.bad && (errs[0].Attribute != "size" || errs[0].Message != "must be a whole number of bytes from 10 to 100") {
			t.Errorf("%s: error %+v", tc.name, errs[0])
		}
	}
}

func TestBucket(t *testing.T) {
	var errs sdk.ConfigErrors
	bucket, codec := Bucket(sdk.ConfigValue{"bucket": "b", "prefix": "p/"}, &errs)
	if bucket != "b" || codec == nil || codec.Prefix() != "p/" || len(errs) != 0 {
		t.Fatalf("Bucket = %q, %v, %v", bucket, codec, errs)
	}
	_, _ = Bucket(sdk.ConfigValue{"prefix": strings.Repeat("p", 900)}, &errs)
	if len(errs) != 2 || errs[0].Attribute != "bucket" || errs[1].Attribute != "prefix" {
		t.Fatalf("errors %v, want bucket and prefix", errs)
	}
	s := sdk.ConfigSchema{Attributes: BucketAttributes()}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if a, ok := s.Attribute("bucket"); !ok || !a.Required {
		t.Errorf("bucket attribute %+v", a)
	}
}

func TestClassify(t *testing.T) {
	errLimit := &sdk.RateLimitError{Message: "slow down"}
	kind := func(err error) error {
		switch {
		case strings.Contains(err.Error(), "missing"):
			return sdk.ErrNotFound
		case strings.Contains(err.Error(), "throttled"):
			return errLimit
		case strings.Contains(err.Error(), "no bucket"):
			return fmt.Errorf("%w: the bucket does not exist", sdk.ErrUnavailable)
		}
		return nil
	}
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("some failure")}
	for _, tc := range []struct {
		name string
		err  error
		kind error
		text string
	}{
		{"service kind", errors.New("object missing"), sdk.ErrNotFound, sdk.ErrNotFound.Error() + ": object missing"},
		{"rate limit", errors.New("throttled"), errLimit, "slow down: throttled"},
		{"kind with words", errors.New("no bucket"), sdk.ErrUnavailable, sdk.ErrUnavailable.Error() + ": the bucket does not exist: no bucket"},
		{"network error", opErr, sdk.ErrUnavailable, sdk.ErrUnavailable.Error() + ": " + opErr.Error()},
		{"refused in text", errors.New("dial: connection refused"), sdk.ErrUnavailable, sdk.ErrUnavailable.Error() + ": dial: connection refused"},
		{"canceled passes, even if kind would match", fmt.Errorf("missing: %w", context.Canceled), context.Canceled, "missing: context canceled"},
		{"deadline passes", context.DeadlineExceeded, context.DeadlineExceeded, "context deadline exceeded"},
		{"other", errors.New("odd"), nil, "odd"},
	} {
		got := Classify(tc.err, kind)
		if got.Error() != tc.text {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.text)
		}
		if tc.kind != nil && !errors.Is(got, tc.kind) {
			t.Errorf("%s: %v is not %v", tc.name, got, tc.kind)
		}
	}
	var rl *sdk.RateLimitError
	if !errors.As(Classify(errors.New("throttled"), kind), &rl) {
		t.Error("a rate limit does not come out as *sdk.RateLimitError")
	}
	if Classify(nil, kind) != nil {
		t.Error("Classify(nil) is not nil")
	}
}
