# Vire, personal: one person on one machine. This is the configuration
# vire-server uses when it is given none.
#
# Data is kept under ./data, encrypted with a master key taken from the
# VIRE_MASTER_KEY environment variable. Relative paths are resolved against
# the working directory when this built-in default is used, and against the
# configuration's own directory when a file is given.

variable "master_key" {
  description = "Key that encrypts every tenant's data key. Generate one with: openssl rand -base64 32"
  type        = string
  sensitive   = true
  default     = env("VIRE_MASTER_KEY")
}

variable "listen" {
  description = "Address the API listens on. Keep it on loopback: this configuration has no authentication."
  type        = string
  default     = "127.0.0.1:8080"
}

server {
  listen    = var.listen
  log_level = "info"
}

storage "file" {
  root = "./data"
}

keys "env" {
  master_key = var.master_key
}
