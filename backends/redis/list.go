package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vire-dev/vire/backends/internal/objname"
	"github.com/vire-dev/vire/sdk"
)

const defaultListLimit = 1000

// List pages through the index with lexicographic range queries: Redis
// orders members of equal score byte-wise, and each page starts strictly
// after the previous page's last key, so a key present for the whole
// listing appears exactly once whatever is written meanwhile.
func (s *Store) List(ctx context.Context, o sdk.ListOptions) (sdk.ListPage, error) {
	c, err := s.cur.Get()
	if err != nil {
		return sdk.ListPage{}, err
	}
	limit := o.Limit
	if limit <= 0 || limit > defaultListLimit {
		limit = defaultListLimit
	}
	lower := "-"
	if o.Prefix != "" {
		lower = "[" + o.Prefix
	}
	if o.Cursor != "" {
		after, err := objname.ParseCursor(o.Cursor)
		if err != nil {
			return sdk.ListPage{}, fmt.Errorf("redis: list: bad cursor: %w", sdk.ErrInvalidArgument)
		}
		if after >= o.Prefix {
			lower = "(" + after
		}
	}
	upper := "+"
	if end, ok := prefixEnd(o.Prefix); ok {
		upper = "(" + end
	}
	var items []sdk.ListItem
	for len(items) <= limit {
		want := limit + 1 - len(items)
		members, err := c.client.ZRangeArgs(ctx, goredis.ZRangeArgs{
			Key: c.indexKey(), Start: lower, Stop: upper, ByLex: true, Count: int64(want),
		}).Result()
		if err != nil {
			return sdk.ListPage{}, fmt.Errorf("redis: list: %w", classify(err))
		}
		if len(members) == 0 {
			break
		}
		found, gone, err := s.heads(ctx, c, members)
		if err != nil {
			return sdk.ListPage{}, err
		}
		items = append(items, found...)
		if len(gone) > 0 {
			s.prune(ctx, c, gone)
		}
		lower = "(" + members[len(members)-1]
		if len(members) < want {
			break
		}
	}
	page := sdk.ListPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextCursor = objname.Cursor(page.Items[limit-1].Key)
	}
	return page, nil
}

// heads reads the metadata of listed keys in one pipeline. Keys without
// metadata were deleted since, or expired (ttl).
func (s *Store) heads(ctx context.Context, c *config, keys []string) ([]sdk.ListItem, []string, error) {
	cmds := make([]*goredis.SliceCmd, len(keys))
	_, err := c.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HMGet(ctx, c.metaKey(k), "v", "s", "n", "c", "t")
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("redis: list: %w", classify(err))
	}
	var items []sdk.ListItem
	var gone []string
	for i, cmd := range cmds {
		vals := cmd.Val()
		if len(vals) == 0 || vals[0] == nil {
			gone = append(gone, keys[i])
			continue
		}
		h, err := parseHead(vals)
		if err != nil {
			return nil, nil, err
		}
		items = append(items, sdk.ListItem{Key: keys[i], Meta: h.meta})
	}
	return items, gone, nil
}

// prune removes index entries of expired blobs. A delete removes its entry
// itself, so only ttl expiry leaves entries behind.
func (s *Store) prune(ctx context.Context, c *config, members []string) {
	args := make([]any, 0, len(members)+1)
	args = append(args, c.prefix+"m:")
	for _, m := range members {
		args = append(args, m)
	}
	if err := pruneScript.Run(ctx, c.client, []string{c.indexKey()}, args...).Err(); err != nil {
		s.log.Debug("could not prune expired index entries", "error", err)
	}
}

// prefixEnd returns the smallest string greater than every string with the
// given prefix; ok is false when there is none (empty or all 0xFF).
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xFF {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}
