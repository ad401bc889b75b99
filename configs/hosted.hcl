# Vire, hosted: many tenants, several stateless vire-server instances behind
# a load balancer. Tenant data lives in S3, encrypted with keys held in
# Vault's transit engine; Redis is the shared cache and rate-limit store;
# market data comes from EODHD. Every client authenticates with an API key.
#
# Secrets come from the environment through sensitive variables, never from
# literal strings in this file.

variable "s3_bucket" {
  description = "Bucket holding every tenant's data."
  type        = string
  default     = env("VIRE_S3_BUCKET")
}

variable "s3_endpoint" {
  description = "S3-compatible endpoint; empty for AWS itself."
  type        = string
  default     = env("VIRE_S3_ENDPOINT")
}

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

variable "redis_url" {
  description = "redis://[user:password@]host:port/db; the password makes it a secret."
  type        = string
  sensitive   = true
  default     = env("VIRE_REDIS_URL")
}

variable "vault_token" {
  type      = string
  sensitive = true
  default   = env("VAULT_TOKEN")
}

variable "eodhd_api_key" {
  type      = string
  sensitive = true
  default   = env("EODHD_API_KEY")
}

locals {
  region = "ap-southeast-2"
}

server {
  listen           = "0.0.0.0:8080"
  log_level        = "info"
  log_format       = "json"
  shutdown_timeout = "30s"
}

auth {
  mode       = "api_key"
  rate_limit = 600
  rate_burst = 60
}

storage "s3" {
  bucket            = var.s3_bucket
  prefix            = "vire/"
  region            = local.region
  endpoint          = var.s3_endpoint
  use_path_style    = var.s3_endpoint != ""
  access_key_id     = var.aws_access_key_id
  secret_access_key = var.aws_secret_access_key
}

cache "redis" {
  url    = var.redis_url
  prefix = "vire:cache:"
  # Cached documents nobody reads again expire instead of filling Redis.
  ttl = "24h"
}

keys "vault" {
  address  = "https://vault.internal:8200"
  token    = var.vault_token
  mount    = "transit"
  key_name = "vire"
}

source "eodhd" "market" {
  api_key = var.eodhd_api_key
}

# Pin the plugin binaries a hosted deployment runs, and pass each only the
# environment it needs.
plugin "s3" {
  env = ["AWS_REGION", "AWS_CA_BUNDLE"]
}
