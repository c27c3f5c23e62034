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

{{/* By digest when one is given: it wins over the tag, so what runs is exactly what was pinned. */}}
{{- define "fabric.image" -}}
{{- $image := .Values.image -}}
{{- if $image.digest -}}
{{ $image.repository }}@{{ $image.digest }}
{{- else -}}
{{ $image.repository }}:{{ $image.tag | default .Chart.AppVersion }}
{{- end -}}
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

{{/* The component's probes, each an HTTP GET on the metrics port, and the container's
hardening; call with (list $ componentValues). */}}
{{- define "fabric.health" -}}
{{- $ := index . 0 -}}
{{- $probes := (index . 1).probes -}}
{{- range $kind := list "startup" "liveness" "readiness" }}
{{- $probe := index $probes $kind }}
{{ $kind }}Probe:
  httpGet: { path: {{ $probe.path }}, port: metrics }
  {{- toYaml (omit $probe "path") | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $.Values.securityContext | nindent 2 }}
{{- end -}}

{{/* What every worker container shares: the metrics port, probes and hardening; call with
(list $ componentValues). */}}
{{- define "fabric.workerContainer" -}}
ports:
  {{- include "fabric.metricsPort" (index . 0) | nindent 2 }}
{{ include "fabric.health" . | trim }}
{{- end -}}

{{/* The ServiceAccount a component's pods run as; call with (list $ componentValues "component"). */}}
{{- define "fabric.serviceAccountName" -}}
{{- $ := index . 0 -}}
{{- $sa := (index . 1).serviceAccount -}}
{{- if $sa.create -}}
{{- $sa.name | default (printf "%s-%s" (include "fabric.fullname" $) (index . 2)) -}}
{{- else -}}
{{- $sa.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* A checksum of exactly the chart Secret's keys a component reads, so rotating one
rolls the pods that use it and no others; call with (list $ keys). Empty with
secrets.existingSecret: the chart cannot see that Secret's content. */}}
{{- define "fabric.secretChecksum" -}}
{{- $ := index . 0 -}}
{{- if not $.Values.secrets.existingSecret -}}
{{- $data := (include (print $.Template.BasePath "/secret.yaml") $ | fromYaml).stringData | default dict -}}
{{- $picked := dict -}}
{{- range $key := index . 1 }}
{{- if hasKey $data $key }}{{ $_ := set $picked $key (get $data $key) }}{{ end }}
{{- end -}}
{{- toJson $picked | sha256sum -}}
{{- end -}}
{{- end -}}

{{/* The env, mounts and volumes every component adds from its extraEnv, extraVolumeMounts
and extraVolumes values. */}}
{{- define "fabric.extraEnv" -}}
{{- with .extraEnv }}
{{- toYaml . }}
{{- end }}
{{- end -}}

{{- define "fabric.extraVolumeMounts" -}}
{{- with .extraVolumeMounts }}
{{- toYaml . }}
{{- end }}
{{- end -}}

{{- define "fabric.extraVolumes" -}}
{{- with .extraVolumes }}
{{- toYaml . }}
{{- end }}
{{- end -}}

{{/* The pod-level fields every component shares; call with (list $ componentValues "component"). */}}
{{- define "fabric.podSpec" -}}
{{- $ := index . 0 -}}
{{- $component := index . 1 -}}
serviceAccountName: {{ include "fabric.serviceAccountName" . }}
automountServiceAccountToken: {{ $component.serviceAccount.automountToken }}
securityContext:
  {{- toYaml $.Values.podSecurityContext | nindent 2 }}
{{- with $.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $.Values.affinity }}
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
  "regions" (include "fabric.controlPlaneRegions" . | fromJsonArray)
  "replication" .Values.replication
  "probeTimeoutMs" $cp.probeTimeoutMs -}}
{{- if not (or $cp.tls.secretName $cp.allowInsecure) -}}
{{- fail "controlPlane: it listens beyond loopback, so give controlPlane.tls.secretName (or set controlPlane.allowInsecure: true for a network that encrypts on its own)" -}}
{{- end -}}
{{- if $cp.allowInsecure -}}
{{- $_ := set $config "listen" (dict "host" "0.0.0.0" "port" $cp.port "allowInsecure" true) -}}
{{- end -}}
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

{{/* TLS to the region's brokers: asked for, or implied by a CA or client certificate (as the flags imply it). */}}
{{- define "fabric.kafkaTlsOn" -}}
{{- $tls := .Values.kafka.tls -}}
{{- if or $tls.enabled $tls.caSecret $tls.clientSecret }}on{{ end -}}
{{- end -}}

{{/* The Kafka flags of every worker: brokers, TLS and SASL. The password is a file from the
Secret, never an argument or a variable a `ps` or `kubectl describe` would show. */}}
{{- define "fabric.kafkaArgs" -}}
{{- $k := .Values.kafka -}}
- --kafka={{ join "," $k.brokers }}
{{- if include "fabric.kafkaTlsOn" . }}
- --kafka-tls=on
{{- end }}
{{- if $k.tls.caSecret }}
- --kafka-ca=/etc/fabric/kafka-ca/{{ $k.tls.caKey }}
{{- end }}
{{- if $k.tls.clientSecret }}
- --kafka-cert=/etc/fabric/kafka-client/tls.crt
- --kafka-key=/etc/fabric/kafka-client/tls.key
{{- end }}
{{- with $k.sasl.mechanism }}
{{- if and (eq . "plain") (not (include "fabric.kafkaTlsOn" $)) }}
{{- fail "kafka.sasl.mechanism: plain sends the password in clear: set kafka.tls.enabled, or use scram-sha-512" }}
{{- end }}
{{- if not $k.sasl.username }}
{{- fail "kafka.sasl.username: required with kafka.sasl.mechanism" }}
{{- end }}
{{- if not (or $k.sasl.password $.Values.secrets.existingSecret) }}
{{- fail "kafka.sasl.password: required with kafka.sasl.mechanism (or the key kafka-password in secrets.existingSecret)" }}
{{- end }}
- --kafka-sasl={{ . }}
- --kafka-username={{ $k.sasl.username }}
- --kafka-password-file=/etc/fabric/kafka-sasl/kafka-password
{{- end }}
{{- end }}

{{/* The mounts and volumes behind fabric.kafkaArgs (empty when plaintext without SASL). */}}
{{- define "fabric.kafkaMounts" -}}
{{- $k := .Values.kafka -}}
{{- if $k.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/fabric/kafka-ca
  readOnly: true
{{- end }}
{{- if $k.tls.clientSecret }}
- name: kafka-client
  mountPath: /etc/fabric/kafka-client
  readOnly: true
{{- end }}
{{- if $k.sasl.mechanism }}
- name: kafka-sasl
  mountPath: /etc/fabric/kafka-sasl
  readOnly: true
{{- end }}
{{- end }}

{{- define "fabric.kafkaVolumes" -}}
{{- $k := .Values.kafka -}}
{{- if $k.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ $k.tls.caSecret }}
{{- end }}
{{- if $k.tls.clientSecret }}
- name: kafka-client
  secret:
    secretName: {{ $k.tls.clientSecret }}
{{- end }}
{{- if $k.sasl.mechanism }}
- name: kafka-sasl
  secret:
    secretName: {{ include "fabric.secretName" . }}
    defaultMode: 0400
    items:
      - key: kafka-password
        path: kafka-password
{{- end }}
{{- end }}

{{/* The control plane's regions as its configuration takes them: each region's kafkaTls
and kafkaSasl in values name Secrets, here they become the files those Secrets are mounted
as (fabric.controlPlaneKafkaVolumes). */}}
{{- define "fabric.controlPlaneRegions" -}}
{{- $regions := list -}}
{{- range .Values.controlPlane.regions -}}
{{- $r := omit . "kafkaTls" "kafkaSasl" -}}
{{- $name := .name -}}
{{- if hasKey . "kafkaTls" -}}
{{- $t := .kafkaTls -}}
{{- if kindIs "map" $t -}}
{{- $files := dict -}}
{{- if $t.caSecret -}}
{{- $_ := set $files "ca" (printf "/etc/fabric/kafka-ca/%s/%s" $name ($t.caKey | default "ca.crt")) -}}
{{- end -}}
{{- if $t.clientSecret -}}
{{- $_ := set $files "cert" (printf "/etc/fabric/kafka-client/%s/tls.crt" $name) -}}
{{- $_ := set $files "key" (printf "/etc/fabric/kafka-client/%s/tls.key" $name) -}}
{{- end -}}
{{- $_ := set $r "kafkaTls" $files -}}
{{- else if $t -}}
{{- $_ := set $r "kafkaTls" true -}}
{{- end -}}
{{- end -}}
{{- with .kafkaSasl -}}
{{- if not (or .password $.Values.secrets.existingSecret) -}}
{{- fail (printf "controlPlane.regions[%s].kafkaSasl.password: required (or the key kafka-password-%s in secrets.existingSecret)" $name $name) -}}
{{- end -}}
{{- $_ := set $r "kafkaSasl" (dict "mechanism" .mechanism "username" .username "passwordFile" (printf "/etc/fabric/kafka-sasl/%s" $name)) -}}
{{- end -}}
{{- $regions = append $regions $r -}}
{{- end -}}
{{- toJson $regions -}}
{{- end -}}

{{- define "fabric.controlPlaneKafkaMounts" -}}
{{- $sasl := false -}}
{{- range .Values.controlPlane.regions }}
{{- if kindIs "map" .kafkaTls }}
{{- if .kafkaTls.caSecret }}
- name: kafka-ca-{{ .name }}
  mountPath: /etc/fabric/kafka-ca/{{ .name }}
  readOnly: true
{{- end }}
{{- if .kafkaTls.clientSecret }}
- name: kafka-client-{{ .name }}
  mountPath: /etc/fabric/kafka-client/{{ .name }}
  readOnly: true
{{- end }}
{{- end }}
{{- if .kafkaSasl }}{{ $sasl = true }}{{ end }}
{{- end }}
{{- if $sasl }}
- name: kafka-sasl
  mountPath: /etc/fabric/kafka-sasl
  readOnly: true
{{- end }}
{{- end }}

{{- define "fabric.controlPlaneKafkaVolumes" -}}
{{- $passwords := list -}}
{{- range .Values.controlPlane.regions }}
{{- if kindIs "map" .kafkaTls }}
{{- if .kafkaTls.caSecret }}
- name: kafka-ca-{{ .name }}
  secret:
    secretName: {{ .kafkaTls.caSecret }}
{{- end }}
{{- if .kafkaTls.clientSecret }}
- name: kafka-client-{{ .name }}
  secret:
    secretName: {{ .kafkaTls.clientSecret }}
{{- end }}
{{- end }}
{{- if .kafkaSasl }}{{ $passwords = append $passwords .name }}{{ end }}
{{- end }}
{{- with $passwords }}
- name: kafka-sasl
  secret:
    secretName: {{ include "fabric.secretName" $ }}
    defaultMode: 0400
    items:
      {{- range . }}
      - key: kafka-password-{{ . }}
        path: {{ . }}
      {{- end }}
{{- end }}
{{- end }}
