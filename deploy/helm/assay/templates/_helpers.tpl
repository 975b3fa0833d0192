{{/* Names */}}
{{- define "assay.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "assay.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "assay.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "assay.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: include "assay.selector" (list . "api") */}}
{{- define "assay.selector" -}}
{{- $ctx := index . 0 -}}
app.kubernetes.io/name: {{ include "assay.name" $ctx }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "assay.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "assay.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "assay.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "assay.secretName" -}}
{{- default (printf "%s-secrets" (include "assay.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* Where the model, the index and the queue are; fail early when a choice is missing. */}}
{{- define "assay.llmBaseUrl" -}}
{{- if .Values.llm.baseUrl -}}
{{- .Values.llm.baseUrl -}}
{{- else if .Values.model.enabled -}}
{{- printf "http://%s-model:8111/v1" (include "assay.fullname" .) -}}
{{- else -}}
{{- fail "no model endpoint: set llm.baseUrl (vLLM, Ollama, TGI, any OpenAI-compatible API) or model.enabled=true" -}}
{{- end -}}
{{- end -}}

{{- define "assay.qdrantUrl" -}}
{{- if .Values.qdrant.url -}}
{{- .Values.qdrant.url -}}
{{- else if .Values.qdrant.enabled -}}
{{- printf "http://%s-qdrant:6333" (include "assay.fullname" .) -}}
{{- else -}}
{{- fail "the API and the workers share the index: set qdrant.url or qdrant.enabled=true" -}}
{{- end -}}
{{- end -}}

{{- define "assay.checkQueue" -}}
{{- if and (not .Values.redis.enabled) (not .Values.secrets.redisUrl) (not .Values.secrets.existingSecret) -}}
{{- fail "the workers take jobs from Redis: set redis.enabled=true, secrets.redisUrl or secrets.existingSecret (with ASSAY_REDIS_URL)" -}}
{{- end -}}
{{- end -}}

{{/* The pod parts the API and the workers share. */}}
{{- define "assay.envFrom" -}}
- configMapRef:
    name: {{ include "assay.fullname" . }}-config
- secretRef:
    name: {{ include "assay.secretName" . }}
{{- end -}}

{{- define "assay.podAnnotations" -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end -}}

{{- define "assay.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: github-key
  mountPath: /etc/assay/github
  readOnly: true
{{- if .Values.customCA.configMap }}
- name: custom-ca
  mountPath: /etc/assay/ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "assay.volumes" -}}
- name: tmp
  emptyDir: {}
- name: github-key
  secret:
    secretName: {{ include "assay.secretName" . }}
    optional: true
    items:
      - key: github-app.pem
        path: github-app.pem
{{- if .Values.customCA.configMap }}
- name: custom-ca
  configMap:
    name: {{ .Values.customCA.configMap }}
    items:
      - key: {{ .Values.customCA.key }}
        path: ca.crt
{{- end }}
{{- end -}}
