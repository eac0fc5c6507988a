# syntax=docker/dockerfile:1
# Build:  docker build --build-arg VERSION=$(git describe --tags --always) -t fedtoken-mock .
# Run:    docker run --rm --read-only -p 8080:8080 fedtoken-mock

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
# Static (CGO off), no local paths (-trimpath), no symbol tables (-s -w), version stamped in.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/fedtoken-mock ./cmd/fedtoken-mock

# Only the binary: no shell, no package manager, no CA bundle (the mock makes no outbound calls).
FROM scratch
COPY --from=build /out/fedtoken-mock /fedtoken-mock
# 65532 is the conventional "nonroot" uid/gid (as in distroless); scratch has no /etc/passwd,
# so numeric ids. The process writes no files, so a read-only root filesystem works.
USER 65532:65532
EXPOSE 8080
# A scratch image has no curl: the binary asks itself (on --admin-addr when set, else --addr,
# read from the same FEDTOKEN_MOCK_* environment as the server).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/fedtoken-mock", "healthcheck"]
ENTRYPOINT ["/fedtoken-mock"]
