package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"

	pb "github.com/vire-dev/vire/sdk/proto/pluginv1"
)

// Conn is the host's view of one running plugin binary: the gRPC connection
// and typed clients for the components it serves.
type Conn struct {
	plugin    pb.PluginClient
	blob      pb.BlobStoreClient
	keys      pb.KeyProviderClient
	market    pb.MarketDataClient
	portfolio pb.PortfolioSourceClient
}

// NewConn wraps a gRPC connection to a plugin.
func NewConn(cc grpc.ClientConnInterface) *Conn {
	return &Conn{
		plugin:    pb.NewPluginClient(cc),
		blob:      pb.NewBlobStoreClient(cc),
		keys:      pb.NewKeyProviderClient(cc),
		market:    pb.NewMarketDataClient(cc),
		portfolio: pb.NewPortfolioSourceClient(cc),
	}
}

// Describe asks the plugin what it serves.
func (c *Conn) Describe(ctx context.Context) (Description, error) {
	resp, err := c.plugin.Describe(ctx, &pb.Empty{})
	if err != nil {
		return Description{}, fromStatus(err)
	}
	var d Description
	if err := json.Unmarshal(resp.Json, &d); err != nil {
		return Description{}, fmt.Errorf("plugin sent an unreadable description: %w", err)
	}
	return d, nil
}

// component is the part of every client that talks to the Plugin service.
type component struct {
	conn *Conn
	kind ComponentKind
	info ComponentInfo
}

func (c component) Schema() ConfigSchema { return c.info.Schema }

func (c component) Configure(ctx context.Context, v ConfigValue) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	_, err = c.conn.plugin.Configure(ctx, &pb.ConfigureRequest{Kind: string(c.kind), Config: b})
	return fromStatus(err)
}

func (c component) Health(ctx context.Context) error {
	_, err := c.conn.plugin.Health(ctx, &pb.ComponentRef{Kind: string(c.kind)})
	return fromStatus(err)
}

func findComponent(d Description, kind ComponentKind) (ComponentInfo, error) {
	for _, ci := range d.Components {
		if ci.Kind == kind {
			return ci, nil
		}
	}
	return ComponentInfo{}, fmt.Errorf("%w: plugin %q serves no %s component", ErrUnsupported, d.Name, kind)
}

// BlobStore returns a client for the plugin's storage component, described
// by d (from Describe).
func (c *Conn) BlobStore(d Description) (BlobStore, error) {
	ci, err := findComponent(d, KindStorage)
	if err != nil {
		return nil, err
	}
	return &blobClient{component: component{conn: c, kind: KindStorage, info: ci}}, nil
}

// KeyProvider returns a client for the plugin's keys component.
func (c *Conn) KeyProvider(d Description) (KeyProvider, error) {
	ci, err := findComponent(d, KindKeys)
	if err != nil {
		return nil, err
	}
	return &keyClient{component: component{conn: c, kind: KindKeys, info: ci}}, nil
}

type blobClient struct {
	component
}

var _ Versioned = (*blobClient)(nil)

func (c *blobClient) Capabilities() BlobCapabilities {
	if c.info.Capabilities == nil {
		return BlobCapabilities{}
	}
	return *c.info.Capabilities
}

func (c *blobClient) Get(ctx context.Context, key string) ([]byte, Meta, error) {
	resp, err := c.conn.blob.Get(ctx, &pb.KeyRequest{Key: []byte(key)})
	if err != nil {
		return nil, Meta{}, fromStatus(err)
	}
	data := resp.Data
	if data == nil {
		data = []byte{}
	}
	return data, metaFromPB(resp.Meta), nil
}

func (c *blobClient) GetReader(ctx context.Context, key string) (io.ReadCloser, Meta, error) {
	ctx, cancel := context.WithCancel(ctx)
	stream, err := c.conn.blob.GetStream(ctx, &pb.KeyRequest{Key: []byte(key)})
	if err != nil {
		cancel()
		return nil, Meta{}, fromStatus(err)
	}
	first, err := stream.Recv()
	if err != nil {
		cancel()
		if err == io.EOF {
			return nil, Meta{}, fmt.Errorf("%w: plugin closed the stream before sending metadata", ErrUnavailable)
		}
		return nil, Meta{}, fromStatus(err)
	}
	return &streamReader{stream: stream, cancel: cancel, buf: first.Data}, metaFromPB(first.Meta), nil
}

type streamReader struct {
	stream pb.BlobStore_GetStreamClient
	cancel context.CancelFunc
	buf    []byte
	err    error
}

func (r *streamReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		msg, err := r.stream.Recv()
		if err == io.EOF {
			r.err = io.EOF
			continue
		}
		if err != nil {
			r.err = fromStatus(err)
			continue
		}
		r.buf = msg.Data
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *streamReader) Close() error {
	r.cancel()
	if r.err == nil {
		r.err = errors.New("read from closed blob reader")
	}
	return nil
}

func (c *blobClient) Put(ctx context.Context, key string, data []byte, o PutOptions) (Meta, error) {
	resp, err := c.conn.blob.Put(ctx, &pb.PutRequest{Key: []byte(key), Data: data, Options: putOptsToPB(o)})
	if err != nil {
		return Meta{}, fromStatus(err)
	}
	return metaFromPB(resp), nil
}

func (c *blobClient) PutReader(ctx context.Context, key string, r io.Reader, size int64, o PutOptions) (Meta, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.conn.blob.PutStream(ctx)
	if err != nil {
		return Meta{}, fromStatus(err)
	}
	if err := stream.Send(&pb.PutChunk{Header: &pb.PutHeader{Key: []byte(key), Size: size, Options: putOptsToPB(o)}}); err != nil {
		return c.finishPut(stream, err)
	}
	src := r
	if size >= 0 {
		src = io.LimitReader(r, size)
	}
	var sent int64
	for {
		buf := make([]byte, chunkSize)
		n, rerr := io.ReadFull(src, buf)
		if n > 0 {
			sent += int64(n)
			if err := stream.Send(&pb.PutChunk{Data: buf[:n]}); err != nil {
				// io.EOF: the plugin ended the call early; its status says why.
				return c.finishPut(stream, err)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			// Cancelling tells the plugin the stream is broken, so it stores nothing.
			cancel()
			return Meta{}, fmt.Errorf("reading blob source: %w", rerr)
		}
	}
	if size >= 0 && sent != size {
		cancel()
		return Meta{}, fmt.Errorf("%w: blob source gave %d bytes, %d announced", ErrInvalidArgument, sent, size)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return Meta{}, fromStatus(err)
	}
	return metaFromPB(resp), nil
}

func (c *blobClient) finishPut(stream pb.BlobStore_PutStreamClient, sendErr error) (Meta, error) {
	if sendErr != io.EOF {
		return Meta{}, fromStatus(sendErr)
	}
	_, err := stream.CloseAndRecv()
	if err == nil {
		err = fmt.Errorf("%w: plugin ended the upload early", ErrUnavailable)
	}
	return Meta{}, fromStatus(err)
}

func (c *blobClient) Delete(ctx context.Context, key string, o DeleteOptions) error {
	_, err := c.conn.blob.Delete(ctx, &pb.DeleteRequest{Key: []byte(key), IfMatch: o.IfMatch})
	return fromStatus(err)
}

func (c *blobClient) Stat(ctx context.Context, key string) (Meta, error) {
	resp, err := c.conn.blob.Stat(ctx, &pb.KeyRequest{Key: []byte(key)})
	if err != nil {
		return Meta{}, fromStatus(err)
	}
	return metaFromPB(resp), nil
}

func (c *blobClient) List(ctx context.Context, o ListOptions) (ListPage, error) {
	resp, err := c.conn.blob.List(ctx, &pb.ListRequest{Prefix: []byte(o.Prefix), Cursor: []byte(o.Cursor), Limit: int32(min(max(o.Limit, 0), 1<<30))})
	if err != nil {
		return ListPage{}, fromStatus(err)
	}
	page := ListPage{NextCursor: string(resp.NextCursor), Items: make([]ListItem, 0, len(resp.Items))}
	for _, it := range resp.Items {
		page.Items = append(page.Items, ListItem{Key: string(it.Key), Meta: metaFromPB(it.Meta)})
	}
	return page, nil
}

func (c *blobClient) Versions(ctx context.Context, key string) ([]Version, error) {
	resp, err := c.conn.blob.Versions(ctx, &pb.KeyRequest{Key: []byte(key)})
	if err != nil {
		return nil, fromStatus(err)
	}
	out := make([]Version, 0, len(resp.Versions))
	for _, v := range resp.Versions {
		out = append(out, Version{ID: v.Id, Meta: metaFromPB(v.Meta)})
	}
	return out, nil
}

func (c *blobClient) GetVersion(ctx context.Context, key, id string) ([]byte, Meta, error) {
	resp, err := c.conn.blob.GetVersion(ctx, &pb.VersionRequest{Key: []byte(key), Id: id})
	if err != nil {
		return nil, Meta{}, fromStatus(err)
	}
	return resp.Data, metaFromPB(resp.Meta), nil
}

func (c *blobClient) Close() error {
	_, err := c.conn.blob.Close(context.Background(), &pb.Empty{})
	return fromStatus(err)
}

type keyClient struct {
	component
}

func (c *keyClient) Wrap(ctx context.Context, tenant string, dek []byte) (WrappedKey, error) {
	resp, err := c.conn.keys.Wrap(ctx, &pb.WrapRequest{Tenant: []byte(tenant), Dek: dek})
	if err != nil {
		return WrappedKey{}, fromStatus(err)
	}
	return wrappedFromPB(resp), nil
}

func (c *keyClient) Unwrap(ctx context.Context, tenant string, w WrappedKey) ([]byte, error) {
	resp, err := c.conn.keys.Unwrap(ctx, &pb.UnwrapRequest{Tenant: []byte(tenant), Wrapped: wrappedToPB(w)})
	if err != nil {
		return nil, fromStatus(err)
	}
	return resp.Dek, nil
}

func (c *keyClient) Rewrap(ctx context.Context, tenant string, w WrappedKey) (WrappedKey, error) {
	resp, err := c.conn.keys.Rewrap(ctx, &pb.UnwrapRequest{Tenant: []byte(tenant), Wrapped: wrappedToPB(w)})
	if err != nil {
		return WrappedKey{}, fromStatus(err)
	}
	return wrappedFromPB(resp), nil
}

func (c *keyClient) Rotate(ctx context.Context, tenant string) (uint32, error) {
	resp, err := c.conn.keys.Rotate(ctx, &pb.TenantRequest{Tenant: []byte(tenant)})
	if err != nil {
		return 0, fromStatus(err)
	}
	return resp.Version, nil
}

func (c *keyClient) Status(ctx context.Context, tenant string) (KeyStatus, error) {
	resp, err := c.conn.keys.Status(ctx, &pb.TenantRequest{Tenant: []byte(tenant)})
	if err != nil {
		return KeyStatus{}, fromStatus(err)
	}
	return KeyStatus{Latest: resp.Latest, MinDecrypt: resp.MinDecrypt, Versions: resp.Versions, Rotatable: resp.Rotatable}, nil
}
