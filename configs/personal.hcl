# Vire, personal: one person on one machine. This is the configuration
# vire-server uses when it is given none.
#
# Data is kept in ./data, encrypted with a master key taken from the
# VIRE_MASTER_KEY environment variable. abspath() resolves a relative path
# against the configuration's directory, or against the working directory
# for this built-in default, so ./data is beside wherever vire-server starts.
#
# Market data comes from the offline sample source: synthetic prices that
# need no network and no account. For real prices from EOD Historical Data
# run configs/eodhd.hcl instead (see docs/market.md).

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
  root = abspath("./data")
}

keys "env" {
  master_key = var.master_key
}

# Synthetic market data, generated offline (labelled "not real prices").
source "sample" "market" {}
