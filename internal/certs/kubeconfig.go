package certs

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// WebhookKubeconfig writes the file kube-apiserver reads with
// --authentication-token-webhook-config-file: the webhook URL and the pinned CA.
func WebhookKubeconfig(path, host string, port int, caPEM []byte) error {
	server := "https://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/authenticate"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["iamgate"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos["kube-apiserver"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["webhook"] = &clientcmdapi.Context{Cluster: "iamgate", AuthInfo: "kube-apiserver"}
	cfg.CurrentContext = "webhook"
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("encode webhook kubeconfig: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write webhook kubeconfig: %w", err)
	}
	return WriteFileAtomic(path, data, 0o644)
}
