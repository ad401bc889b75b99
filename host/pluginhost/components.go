package pluginhost

import (
	"context"
	"fmt"
	"io"

	"github.com/vire-dev/vire/sdk"
)

// BlobStore configures the plugin's storage component and returns it,
// supervised: calls survive a plugin restart where that is safe.
func (p *Plugin) BlobStore(ctx context.Context, cfg sdk.ConfigValue) (sdk.BlobStore, error) {
	if err := p.configure(ctx, sdk.KindStorage, cfg); err != nil {
		return nil, err
	}
	return &blobStore{p: p}, nil
}

// KeyProvider configures the plugin's keys component and returns it,
// supervised.
func (p *Plugin) KeyProvider(ctx context.Context, cfg sdk.ConfigValue) (sdk.KeyProvider, error) {
	if err := p.configure(ctx, sdk.KindKeys, cfg); err != nil {
		return nil, err
	}
	return &keyProvider{p: p}, nil
}

// blobStore is a supervised sdk.BlobStore. Reads are retried across a
// restart; writes are not, because their outcome is unknown.
type blobStore struct{ p *Plugin }

var (
	_ sdk.BlobStore = (*blobStore)(nil)
	_ sdk.Versioned = (*blobStore)(nil)
)

func (b *blobStore) Schema() sdk.ConfigSchema {
	s, _ := b.p.Schema(sdk.KindStorage)
	return s
}

func (b *blobStore) Configure(ctx context.Context, cfg sdk.ConfigValue) error {
	_, err := b.p.BlobStore(ctx, cfg)
	return err
}

func (b *blobStore) Health(ctx context.Context) error {
	return b.p.do(ctx, "health", true, func(i *instance) error { return i.blob.Health(ctx) })
}

func (b *blobStore) Capabilities() sdk.BlobCapabilities {
	var c sdk.BlobCapabilities
	_ = b.p.do(context.Background(), "capabilities", true, func(i *instance) error {
		c = i.blob.Capabilities()
		return nil
	})
	return c
}

func (b *blobStore) Get(ctx context.Context, key string) (data []byte, m sdk.Meta, err error) {
	err = b.p.do(ctx, "get", true, func(i *instance) error {
		data, m, err = i.blob.Get(ctx, key)
		return err
	})
	return data, m, err
}

func (b *blobStore) GetReader(ctx context.Context, key string) (rc io.ReadCloser, m sdk.Meta, err error) {
	err = b.p.do(ctx, "get", true, func(i *instance) error {
		rc, m, err = i.blob.GetReader(ctx, key)
		return err
	})
	return rc, m, err
}

func (b *blobStore) Put(ctx context.Context, key string, data []byte, o sdk.PutOptions) (m sdk.Meta, err error) {
	err = b.p.do(ctx, "put", false, func(i *instance) error {
		m, err = i.blob.Put(ctx, key, data, o)
		return err
	})
	return m, err
}

func (b *blobStore) PutReader(ctx context.Context, key string, r io.Reader, size int64, o sdk.PutOptions) (m sdk.Meta, err error) {
	err = b.p.do(ctx, "put", false, func(i *instance) error {
		m, err = i.blob.PutReader(ctx, key, r, size, o)
		return err
	})
	return m, err
}

func (b *blobStore) Delete(ctx context.Context, key string, o sdk.DeleteOptions) error {
	return b.p.do(ctx, "delete", false, func(i *instance) error { return i.blob.Delete(ctx, key, o) })
}

func (b *blobStore) Stat(ctx context.Context, key string) (m sdk.Meta, err error) {
	err = b.p.do(ctx, "stat", true, func(i *instance) error {
		m, err = i.blob.Stat(ctx, key)
		return err
	})
	return m, err
}

func (b *blobStore) List(ctx context.Context, o sdk.ListOptions) (page sdk.ListPage, err error) {
	err = b.p.do(ctx, "list", true, func(i *instance) error {
		page, err = i.blob.List(ctx, o)
		return err
	})
	return page, err
}

func (b *blobStore) versioned(i *instance) (sdk.Versioned, error) {
	v, ok := i.blob.(sdk.Versioned)
	if !ok {
		return nil, fmt.Errorf("%w: plugin %s keeps no versions", sdk.ErrUnsupported, b.p.spec.Name)
	}
	return v, nil
}

func (b *blobStore) Versions(ctx context.Context, key string) (vs []sdk.Version, err error) {
	err = b.p.do(ctx, "versions", true, func(i *instance) error {
		v, err := b.versioned(i)
		if err != nil {
			return err
		}
		vs, err = v.Versions(ctx, key)
		return err
	})
	return vs, err
}

func (b *blobStore) GetVersion(ctx context.Context, key, id string) (data []byte, m sdk.Meta, err error) {
	err = b.p.do(ctx, "get version", true, func(i *instance) error {
		v, err := b.versioned(i)
		if err != nil {
			return err
		}
		data, m, err = v.GetVersion(ctx, key, id)
		return err
	})
	return data, m, err
}

// Close releases the component in the plugin; the process keeps running
// until the Host closes.
func (b *blobStore) Close() error {
	return b.p.do(context.Background(), "close", true, func(i *instance) error { return i.blob.Close() })
}

// keyProvider is a supervised sdk.KeyProvider. Wrap, Unwrap, Rewrap and
// Status are pure functions of their input and are retried across a
// restart; Rotate is not.
type keyProvider struct{ p *Plugin }

var _ sdk.KeyProvider = (*keyProvider)(nil)

func (k *keyProvider) Schema() sdk.ConfigSchema {
	s, _ := k.p.Schema(sdk.KindKeys)
	return s
}

func (k *keyProvider) Configure(ctx context.Context, cfg sdk.ConfigValue) error {
	_, err := k.p.KeyProvider(ctx, cfg)
	return err
}

func (k *keyProvider) Health(ctx context.Context) error {
	return k.p.do(ctx, "health", true, func(i *instance) error { return i.keys.Health(ctx) })
}

func (k *keyProvider) Wrap(ctx context.Context, tenant string, dek []byte) (w sdk.WrappedKey, err error) {
	err = k.p.do(ctx, "wrap", true, func(i *instance) error {
		w, err = i.keys.Wrap(ctx, tenant, dek)
		return err
	})
	return w, err
}

func (k *keyProvider) Unwrap(ctx context.Context, tenant string, w sdk.WrappedKey) (dek []byte, err error) {
	err = k.p.do(ctx, "unwrap", true, func(i *instance) error {
		dek, err = i.keys.Unwrap(ctx, tenant, w)
		return err
	})
	return dek, err
}

func (k *keyProvider) Rewrap(ctx context.Context, tenant string, w sdk.WrappedKey) (out sdk.WrappedKey, err error) {
	err = k.p.do(ctx, "rewrap", true, func(i *instance) error {
		out, err = i.keys.Rewrap(ctx, tenant, w)
		return err
	})
	return out, err
}

func (k *keyProvider) Rotate(ctx context.Context, tenant string) (v uint32, err error) {
	err = k.p.do(ctx, "rotate", false, func(i *instance) error {
		v, err = i.keys.Rotate(ctx, tenant)
		return err
	})
	return v, err
}

func (k *keyProvider) Status(ctx context.Context, tenant string) (st sdk.KeyStatus, err error) {
	err = k.p.do(ctx, "status", true, func(i *instance) error {
		st, err = i.keys.Status(ctx, tenant)
		return err
	})
	return st, err
}
