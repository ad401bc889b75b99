# Storage in Google Cloud Storage. Without credentials_file the plugin uses
# Application Default Credentials.

variable "master_key" {
  type      = string
  sensitive = true
  default   = env("VIRE_MASTER_KEY")
}

storage "gcs" {
  bucket           = "vire-data"
  prefix           = "vire/"
  credentials_file = abspath("gcs-service-account.json")
  # endpoint = "http://127.0.0.1:4443/storage/v1/" # an emulator such as fake-gcs-server
}

keys "env" {
  master_key = var.master_key
}
