module github.com/fedtoken/fedtoken-mock

go 1.26.8

require (
	github.com/stretchr/testify v1.12.1
	golang.org/x/net v0.51.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
