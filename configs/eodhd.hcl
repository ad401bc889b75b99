# Vire, personal, with real market data from EOD Historical Data
# (https://eodhd.com). It is configs/personal.hcl with the sample source
# replaced by the eodhd plugin:
#
#   export EODHD_API_KEY=...          # your EODHD API token
#   vire-server run -config configs/eodhd.hcl
#
# The token is read from the environment through a sensitive variable: it
# never appears in this file, in logs or in error messages.

variable "master_key" {
  description = "Key that encrypts every tenant's data key. Generate one with: openssl rand -base64 32"
  type        = string
  sensitive   = true
  default     = env("VIRE_MASTER_KEY")
}

variable "eodhd_api_key" {
  description = "The EODHD API token market data is fetched with."
  type        = string
  sensitive   = true
  default     = env("EODHD_API_KEY")
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

# The first source block serving market data is the one Vire uses.
source "eodhd" "market" {
  api_key = var.eodhd_api_key
}
