{{/* Names leave room for the longest suffix ("-control-plane") within 63 characters. */}}
{{- define "fabric.fullname" -}}
{{- .Release.Name | trunc 48 | trimSuffix "-" -}}
{{- end -}}

{{- define "fabric.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: invalidation-fabric
fabric-region: {{ .Values.region }}
{{- end -}}

{{/* Selector labels of one component; call with (list $ "cdc-reader"). */}}
{{- define "fabric.selector" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ $.Chart.Name }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "fabric.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "fabric.fullname" .)) -}}
{{- end -}}

{{- define "fabric.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "fabric.topic" -}}
{{- .Values.kafka.topic | default (printf "fabric.inval.%s" .Values.region) -}}
{{- end -}}

{{/* Pod annotations: Prometheus scraping plus the component's own (which win); call with
(list $ extraAnnotations). */}}
{{- define "fabric.podAnnotations" -}}
{{- $ := index . 0 -}}
{{- $annotations := dict -}}
{{- if $.Values.metrics.podAnnotations -}}
{{- $_ := set $annotations "prometheus.io/scrape" "true" -}}
{{- $_ := set $annotations "prometheus.io/port" (toString $.Values.metrics.port) -}}
{{- $_ := set $annotations "prometheus.io/path" "/metrics" -}}
{{- end -}}
{{- with mustMerge (deepCopy (index . 1 | default dict)) $annotations }}
{{- toYaml . }}
{{- end -}}
{{- end -}}

{{- define "fabric.metricsPort" -}}
- name: metrics
  containerPort: {{ .Values.metrics.port }}
  protocol: TCP
{{- end -}}

{{/* Probes on the metrics port's /healthz, and the container's hardening. */}}
{{- define "fabric.health" -}}
livenessProbe:
  httpGet: { path: /healthz, port: metrics }
  {{- toYaml .Values.probes.liveness | nindent 2 }}
readinessProbe:
  httpGet: { path: /healthz, port: metrics }
  {{- toYaml .Values.probes.readiness | nindent 2 }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
{{- end -}}

{{/* What every worker container shares: the metrics port, probes and hardening. */}}
{{- define "fabric.workerContainer" -}}
ports:
  {{- include "fabric.metricsPort" . | nindent 2 }}
{{ include "fabric.health" . }}
{{- end -}}

{{- define "fabric.podSpec" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The control plane's JSON configuration (see fabric-control-plane --help). It lives in
the Secret: the regions' database URLs may carry passwords. */}}
{{- define "fabric.controlPlaneConfig" -}}
{{- $cp := .Values.controlPlane -}}
{{- $homes := 0 -}}
{{- range $cp.regions }}{{ if .home }}{{ $homes = add1 $homes }}{{ end }}{{ end -}}
{{- if ne (int $homes) 1 -}}
{{- fail (printf "controlPlane.regions: exactly one region must have home: true, found %d" (int $homes)) -}}
{{- end -}}
{{- $config := dict
  "listen" (dict "host" "0.0.0.0" "port" $cp.port)
  "metrics" (dict "host" "0.0.0.0" "port" .Values.metrics.port)
  "tokens" $cp.tokens
  "regions" $cp.regions
  "replication" .Values.replication
  "probeTimeoutMs" $cp.probeTimeoutMs -}}
{{- if $cp.tls.secretName -}}
{{- $tls := dict "cert" "/etc/fabric/tls/tls.crt" "key" "/etc/fabric/tls/tls.key" -}}
{{- if $cp.tls.requireClientCerts -}}
{{- $_ := set $tls "clientCa" "/etc/fabric/tls/ca.crt" -}}
{{- end -}}
{{- $_ := set $config "tls" $tls -}}
{{- end -}}
{{- toJson $config -}}
{{- end -}}

{{/* The Redis flags of every worker that talks to the region's Redis: the invalidator, and the reader (its continuity record). */}}
{{- define "fabric.redisArgs" -}}
{{- $redis := .Values.redis -}}
{{- if $redis.cluster }}
- --redis-cluster={{ join "," $redis.cluster }}
{{- else }}
- --redis={{ $redis.url }}
{{- end }}
{{- with $redis.user }}
- --redis-user={{ . }}
{{- end }}
{{- if $redis.tls.enabled }}
- --redis-tls
{{- end }}
{{- if $redis.tls.caSecret }}
- --redis-tls-ca=/etc/fabric/redis-ca/{{ $redis.tls.caKey }}
{{- end }}
{{- end }}

{{/* Optional: a Redis without ACLs needs no password, and the Secret then has no key. */}}
{{- define "fabric.redisPasswordEnv" -}}
- name: FABRIC_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "fabric.secretName" . }}
      key: redis-password
      optional: true
{{- end }}

{{- define "fabric.redisCaMount" -}}
- name: redis-ca
  mountPath: /etc/fabric/redis-ca
  readOnly: true
{{- end }}

{{- define "fabric.redisCaVolume" -}}
- name: redis-ca
  secret:
    secretName: {{ .Values.redis.tls.caSecret }}
{{- end }}
