# Storage in Redis: quick to run, for small deployments and tests. Make sure
# Redis persists to disk (appendonly yes) if this is the system of record.

variable "redis_url" {
  description = "redis://[user:password@]host:port/db"
  type        = string
  sensitive   = true
  default     = env("VIRE_REDIS_URL")
}

variable "master_key" {
  type      = string
  sensitive = true
  default   = env("VIRE_MASTER_KEY")
}

storage "redis" {
  url    = var.redis_url
  prefix = "vire:"
}

keys "env" {
  master_key = var.master_key
}
