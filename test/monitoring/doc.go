// Package monitoring checks deploy/monitoring against the server: the alert
// rules parse with Prometheus's own rule parser, and every metric the rules
// and the Grafana dashboard name is one a started iamgate server exports.
//
// It is a module of its own because github.com/prometheus/prometheus
// requires newer k8s.io modules than iamgate builds with; it does not import
// iamgate, it runs it (go run ./hack/metricnames).
package monitoring
