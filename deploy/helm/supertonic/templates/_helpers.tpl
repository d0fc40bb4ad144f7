{{- define "supertonic.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "supertonic.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "supertonic.labels" -}}
{{ include "supertonic.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "supertonic.image" -}}
{{- $tag := .Values.image.tag | default (ternary "cuda" "cpu" .Values.gpu.enabled) -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}

{{/* PromQL label selector of this release's series. */}}
{{- define "supertonic.promSelector" -}}
{{- .Values.autoscaling.prometheus.selector | default (printf "namespace=%q,service=%q" .Release.Namespace (include "supertonic.fullname" .)) -}}
{{- end -}}
