{{/* Object names: the release name when it already says iamgate. */}}
{{- define "iamgate.fullname" -}}
{{- if contains "iamgate" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-iamgate" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "iamgate.selectorLabels" -}}
app.kubernetes.io/name: iamgate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end -}}

{{- define "iamgate.labels" -}}
app.kubernetes.io/name: iamgate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: iamgate
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The server config file (aws-iam-authenticator's format). */}}
{{- define "iamgate.config" -}}
{{- $accounts := list -}}
{{- range .Values.mappings.mapAccounts -}}
{{- if not (kindIs "string" .) -}}
{{- fail (printf "mappings.mapAccounts: %v must be a quoted string (\"111122223333\")" .) -}}
{{- end -}}
{{- $accounts = append $accounts . -}}
{{- end -}}
{{- $server := dict
  "address" "127.0.0.1"
  "port" (int .Values.ports.webhook)
  "healthPort" (int .Values.ports.health)
  "stateDir" .Values.stateDir
  "generateKubeconfig" (printf "%s/kubeconfig.yaml" .Values.webhookKubeconfigDir)
  "backendMode" .Values.backendMode
  "mapRoles" (.Values.mappings.mapRoles | default list)
  "mapUsers" (.Values.mappings.mapUsers | default list)
  "mapAccounts" $accounts -}}
{{- $server = mergeOverwrite $server (deepCopy (.Values.config | default dict)) -}}
{{- $cfg := dict "clusterID" (required "clusterID is required: the cluster id every token must carry" .Values.clusterID) "server" $server -}}
{{- toYaml $cfg -}}
{{- end -}}

{{- define "iamgate.needsConfigMap" -}}{{ has "EKSConfigMap" .Values.backendMode }}{{- end -}}
{{- define "iamgate.needsCRD" -}}{{ has "CRD" .Values.backendMode }}{{- end -}}
