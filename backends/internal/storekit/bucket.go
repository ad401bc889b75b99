package storekit

import (
	"github.com/vire-dev/vire/backends/internal/objname"
	"github.com/vire-dev/vire/sdk"
)

// BucketAttributes declares the bucket and prefix attributes of a store in
// an object-storage bucket (s3, gcs), to lead its schema.
func BucketAttributes() []sdk.Attribute {
	return []sdk.Attribute{
		{Name: "bucket", Type: sdk.TypeString, Required: true,
			Description: "Bucket that holds the blobs; it must exist."},
		{Name: "prefix", Type: sdk.TypeString, Default: "",
			Description: "Prefix of every object name, e.g. \"vire/\"; lets several stores share a bucket."},
	}
}

// Bucket reads the attributes BucketAttributes declares: the bucket's name
// and the codec that names objects under the prefix. Problems are added to
// errs.
func Bucket(v sdk.ConfigValue, errs *sdk.ConfigErrors) (string, *objname.Codec) {
	bucket := v.String("bucket")
	if bucket == "" {
		*errs = append(*errs, sdk.ConfigError{Attribute: "bucket", Message: "must be set"})
	}
	codec, err := objname.NewCodec(v.String("prefix"), objname.MaxName)
	if err != nil {
		*errs = append(*errs, sdk.ConfigError{Attribute: "prefix", Message: err.Error()})
	}
	return bucket, codec
}
