// Command kube-controller-manager is the upstream Kubernetes controller
// manager, built from modules beside the API server so tests that need pods
// (Deployments, ReplicaSets, EndpointSlices, namespace deletion) can run the
// real controllers (see scripts/kubebin.sh and test/harness/kube.ts).
package main

import (
	"os"
	_ "time/tzdata" // for timeZone support in CronJob

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
