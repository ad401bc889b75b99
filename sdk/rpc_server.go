package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	pb "github.com/vire-dev/vire/sdk/proto/pluginv1"
)

// chunkSize is the payload of one streamed message. Large enough that
// per-message overhead is small, small enough to stay far below any gRPC
// message limit.
const chunkSize = 1 << 20

// pluginServer serves the per-binary Plugin service.
type pluginServer struct {
	pb.UnimplementedPluginServer
	desc  Description
	comps map[ComponentKind]Plugin
}

func (s *pluginServer) component(kind string) (Plugin, error) {
	p, ok := s.comps[ComponentKind(kind)]
	if !ok {
		return nil, toStatus(fmt.Errorf("%w: this plugin serves no %q component", ErrUnsupported, kind))
	}
	return p, nil
}

func (s *pluginServer) Describe(context.Context, *pb.Empty) (*pb.JSONMessage, error) {
	b, err := json.Marshal(s.desc)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.JSONMessage{Json: b}, nil
}

func (s *pluginServer) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.Empty, error) {
	p, err := s.component(req.Kind)
	if err != nil {
		return nil, err
	}
	var v ConfigValue
	if err := json.Unmarshal(req.Config, &v); err != nil {
		return nil, toStatus(fmt.Errorf("%w: config is not a JSON object", ErrInvalidConfig))
	}
	return &pb.Empty{}, toStatus(Configure(ctx, p, v))
}

func (s *pluginServer) Health(ctx context.Context, req *pb.ComponentRef) (*pb.Empty, error) {
	p, err := s.component(req.Kind)
	if err != nil {
		return nil, err
	}
	return &pb.Empty{}, toStatus(p.Health(ctx))
}

// Configure completes v with p's schema defaults, checks it against the
// schema and passes it to p.Configure. Hosts and in-process harnesses call
// this rather than p.Configure directly.
func Configure(ctx context.Context, p Plugin, v ConfigValue) error {
	full, err := p.Schema().Complete(v)
	if err != nil {
		return err
	}
	return p.Configure(ctx, full)
}

func metaToPB(m Meta) *pb.Meta {
	var mod int64
	if !m.Modified.IsZero() {
		mod = m.Modified.UnixNano()
	}
	return &pb.Meta{Size: m.Size, Etag: m.ETag, ModifiedUnixNano: mod, ContentType: m.ContentType}
}

func metaFromPB(m *pb.Meta) Meta {
	if m == nil {
		return Meta{}
	}
	var mod time.Time
	if m.ModifiedUnixNano != 0 {
		mod = time.Unix(0, m.ModifiedUnixNano).UTC()
	}
	return Meta{Size: m.Size, ETag: m.Etag, Modified: mod, ContentType: m.ContentType}
}

func putOptsFromPB(o *pb.PutOptions) PutOptions {
	if o == nil {
		return PutOptions{}
	}
	return PutOptions{IfMatch: o.IfMatch, IfNoneMatch: o.IfNoneMatch, ContentType: o.ContentType}
}

func putOptsToPB(o PutOptions) *pb.PutOptions {
	return &pb.PutOptions{IfMatch: o.IfMatch, IfNoneMatch: o.IfNoneMatch, ContentType: o.ContentType}
}

// blobServer exposes a BlobStore over gRPC.
type blobServer struct {
	pb.UnimplementedBlobStoreServer
	b BlobStore
}

func (s *blobServer) Get(ctx context.Context, req *pb.KeyRequest) (*pb.Blob, error) {
	data, m, err := s.b.Get(ctx, string(req.Key))
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.Blob{Meta: metaToPB(m), Data: data}, nil
}

func (s *blobServer) GetStream(req *pb.KeyRequest, stream pb.BlobStore_GetStreamServer) error {
	rc, m, err := s.b.GetReader(stream.Context(), string(req.Key))
	if err != nil {
		return toStatus(err)
	}
	defer rc.Close()
	if err := stream.Send(&pb.Chunk{Meta: metaToPB(m)}); err != nil {
		return err
	}
	for {
		buf := make([]byte, chunkSize)
		n, rerr := io.ReadFull(rc, buf)
		if n > 0 {
			if err := stream.Send(&pb.Chunk{Data: buf[:n]}); err != nil {
				return err
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return nil
		}
		if rerr != nil {
			return toStatus(rerr)
		}
	}
}

func (s *blobServer) Put(ctx context.Context, req *pb.PutRequest) (*pb.Meta, error) {
	m, err := s.b.Put(ctx, string(req.Key), req.Data, putOptsFromPB(req.Options))
	if err != nil {
		return nil, toStatus(err)
	}
	return metaToPB(m), nil
}

// chunkReader turns the data messages of a PutStream into an io.Reader. A
// broken or cancelled stream surfaces as a read error, so the store discards
// the partial blob.
type chunkReader struct {
	stream pb.BlobStore_PutStreamServer
	buf    []byte
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		msg, err := r.stream.Recv()
		if err == io.EOF {
			return 0, io.EOF
		}
		if err != nil {
			return 0, fmt.Errorf("receiving blob stream: %w", fromStatus(err))
		}
		r.buf = msg.Data
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (s *blobServer) PutStream(stream pb.BlobStore_PutStreamServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	h := first.Header
	if h == nil {
		return toStatus(fmt.Errorf("%w: blob stream must start with a header", ErrInvalidArgument))
	}
	r := &chunkReader{stream: stream, buf: first.Data}
	m, err := s.b.PutReader(stream.Context(), string(h.Key), r, h.Size, putOptsFromPB(h.Options))
	if err != nil {
		return toStatus(err)
	}
	return stream.SendAndClose(metaToPB(m))
}

func (s *blobServer) Delete(ctx context.Context, req *pb.DeleteRequest) (*pb.Empty, error) {
	return &pb.Empty{}, toStatus(s.b.Delete(ctx, string(req.Key), DeleteOptions{IfMatch: req.IfMatch}))
}

func (s *blobServer) Stat(ctx context.Context, req *pb.KeyRequest) (*pb.Meta, error) {
	m, err := s.b.Stat(ctx, string(req.Key))
	if err != nil {
		return nil, toStatus(err)
	}
	return metaToPB(m), nil
}

func (s *blobServer) List(ctx context.Context, req *pb.ListRequest) (*pb.ListResponse, error) {
	page, err := s.b.List(ctx, ListOptions{Prefix: string(req.Prefix), Cursor: string(req.Cursor), Limit: int(req.Limit)})
	if err != nil {
		return nil, toStatus(err)
	}
	out := &pb.ListResponse{NextCursor: []byte(page.NextCursor), Items: make([]*pb.ListItem, 0, len(page.Items))}
	for _, it := range page.Items {
		out.Items = append(out.Items, &pb.ListItem{Key: []byte(it.Key), Meta: metaToPB(it.Meta)})
	}
	return out, nil
}

func (s *blobServer) versioned() (Versioned, error) {
	v, ok := s.b.(Versioned)
	if !ok {
		return nil, toStatus(fmt.Errorf("%w: this store keeps no versions", ErrUnsupported))
	}
	return v, nil
}

func (s *blobServer) Versions(ctx context.Context, req *pb.KeyRequest) (*pb.VersionsResponse, error) {
	v, err := s.versioned()
	if err != nil {
		return nil, err
	}
	vs, err := v.Versions(ctx, string(req.Key))
	if err != nil {
		return nil, toStatus(err)
	}
	out := &pb.VersionsResponse{}
	for _, x := range vs {
		out.Versions = append(out.Versions, &pb.Version{Id: x.ID, Meta: metaToPB(x.Meta)})
	}
	return out, nil
}

func (s *blobServer) GetVersion(ctx context.Context, req *pb.VersionRequest) (*pb.Blob, error) {
	v, err := s.versioned()
	if err != nil {
		return nil, err
	}
	data, m, err := v.GetVersion(ctx, string(req.Key), req.Id)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.Blob{Meta: metaToPB(m), Data: data}, nil
}

func (s *blobServer) Close(context.Context, *pb.Empty) (*pb.Empty, error) {
	return &pb.Empty{}, toStatus(s.b.Close())
}

// keyServer exposes a KeyProvider over gRPC.
type keyServer struct {
	pb.UnimplementedKeyProviderServer
	k KeyProvider
}

func wrappedToPB(w WrappedKey) *pb.WrappedKey {
	return &pb.WrappedKey{KeyVersion: w.KeyVersion, Ciphertext: w.Ciphertext}
}

func wrappedFromPB(w *pb.WrappedKey) WrappedKey {
	if w == nil {
		return WrappedKey{}
	}
	return WrappedKey{KeyVersion: w.KeyVersion, Ciphertext: w.Ciphertext}
}

func (s *keyServer) Wrap(ctx context.Context, req *pb.WrapRequest) (*pb.WrappedKey, error) {
	w, err := s.k.Wrap(ctx, string(req.Tenant), req.Dek)
	if err != nil {
		return nil, toStatus(err)
	}
	return wrappedToPB(w), nil
}

func (s *keyServer) Unwrap(ctx context.Context, req *pb.UnwrapRequest) (*pb.DataKey, error) {
	dek, err := s.k.Unwrap(ctx, string(req.Tenant), wrappedFromPB(req.Wrapped))
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.DataKey{Dek: dek}, nil
}

func (s *keyServer) Rewrap(ctx context.Context, req *pb.UnwrapRequest) (*pb.WrappedKey, error) {
	w, err := s.k.Rewrap(ctx, string(req.Tenant), wrappedFromPB(req.Wrapped))
	if err != nil {
		return nil, toStatus(err)
	}
	return wrappedToPB(w), nil
}

func (s *keyServer) Rotate(ctx context.Context, req *pb.TenantRequest) (*pb.KeyVersion, error) {
	v, err := s.k.Rotate(ctx, string(req.Tenant))
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.KeyVersion{Version: v}, nil
}

func (s *keyServer) Status(ctx context.Context, req *pb.TenantRequest) (*pb.KeyStatus, error) {
	st, err := s.k.Status(ctx, string(req.Tenant))
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.KeyStatus{Latest: st.Latest, MinDecrypt: st.MinDecrypt, Versions: st.Versions, Rotatable: st.Rotatable}, nil
}
