package file

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"sync"
	"syscall"
	"time"
)

// Writers to one key are serialised by a lock striped over lockStripes lock
// files in .vire/locks. Inside one process a channel per stripe queues the
// goroutines (and honours their contexts); across processes sharing the
// directory, flock(2) on the stripe's file does. Readers take no lock: a
// blob file is replaced by rename, never rewritten.

const lockStripes = 64

type locks struct {
	root *rootDir
	mu   sync.Mutex
	sem  [lockStripes]chan struct{}
	fds  [lockStripes]*os.File
}

func newLocks(r *rootDir) *locks {
	l := &locks{root: r}
	for i := range l.sem {
		l.sem[i] = make(chan struct{}, 1)
	}
	return l
}

func stripe(key string) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % lockStripes)
}

// lock takes key's write lock and returns its release.
func (l *locks) lock(ctx context.Context, key string) (func(), error) {
	i := stripe(key)
	select {
	case l.sem[i] <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	f, err := l.file(i)
	if err != nil {
		<-l.sem[i]
		return nil, err
	}
	if err := flock(ctx, f); err != nil {
		<-l.sem[i]
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		<-l.sem[i]
	}, nil
}

func (l *locks) file(i int) (*os.File, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fds[i] != nil {
		return l.fds[i], nil
	}
	f, err := l.root.r.OpenFile(fmt.Sprintf("%s/%02x", locksDir, i), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	l.fds[i] = f
	return f, nil
}

// flock takes an exclusive flock, polling so that a context can end the
// wait for another process.
func flock(ctx context.Context, f *os.File) error {
	wait := 100 * time.Microsecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case !errors.Is(err, syscall.EWOULDBLOCK):
			return fmt.Errorf("locking: %w", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		wait = min(2*wait, 5*time.Millisecond)
	}
}

func (l *locks) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, f := range l.fds {
		if f != nil {
			f.Close()
			l.fds[i] = nil
		}
	}
}
