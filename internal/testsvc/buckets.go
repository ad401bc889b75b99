package testsvc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BucketName returns a fresh bucket name valid for S3 and GCS (lower case,
// 3 to 63 characters).
func BucketName() string { return "vire-" + RandomToken(8) }

// CreateS3Bucket creates bucket at an S3 endpoint with path-style addressing.
func CreateS3Bucket(t testing.TB, endpoint, accessKey, secretKey, bucket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
	})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("testsvc: create S3 bucket %s: %v", bucket, err)
	}
}

// CreateGCSBucket creates bucket through fake-gcs-server's JSON API.
func CreateGCSBucket(t testing.TB, host, bucket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	body, _ := json.Marshal(map[string]string{"name": bucket})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+host+"/storage/v1/b?project=vire-test", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("testsvc: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("testsvc: create GCS bucket %s: %v", bucket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		t.Fatalf("testsvc: create GCS bucket %s: %s", bucket, fmt.Sprintf("%s: %s", resp.Status, msg))
	}
}
