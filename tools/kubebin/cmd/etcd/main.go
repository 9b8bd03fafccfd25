// Command etcd is the etcd server at the version Kubernetes pins, built inside
// this module (installing etcd directly fails on its replace directives).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
