# Storage in S3 or any S3-compatible service (MinIO, versitygw, R2, ...).

variable "aws_access_key_id" {
  type      = string
  sensitive = true
  default   = env("AWS_ACCESS_KEY_ID")
}

variable "aws_secret_access_key" {
  type      = string
  sensitive = true
  default   = env("AWS_SECRET_ACCESS_KEY")
}

variable "master_key" {
  type      = string
  sensitive = true
  default   = env("VIRE_MASTER_KEY")
}

storage "s3" {
  bucket            = "vire-data"
  prefix            = "vire/"
  region            = "us-east-1"
  endpoint          = "http://127.0.0.1:7070" # leave out for AWS
  use_path_style    = true                    # most S3-compatible servers need it
  access_key_id     = var.aws_access_key_id
  secret_access_key = var.aws_secret_access_key
}

keys "env" {
  master_key = var.master_key
}
