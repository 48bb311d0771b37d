//! Nothing: this package only names the source scripts/mbedtls-host builds.
