# A QuorumKV replica image (docs/operating.md, "Packaging"). Build from the repository root:
#   docker build -t quorumkv .
#   docker run -e PEER_PEER1_HOST=… -e PEER_PEER1_PORT=7000 -e PEER_PEER2_HOST=… -e PEER_PEER2_PORT=7000 \
#     -v quorumkv-data:/var/lib/quorumkv -p 7000:7000 quorumkv
# The client tool is in the image too; admin calls (kv snapshot) are answered to loopback only, so
# run it inside the replica's container: docker exec CONTAINER java -jar /opt/quorumkv/quorumkv-client.jar -h

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q package -DskipTests

FROM eclipse-temurin:17-jre
# curl: the healthcheck of a replica with TLS (entrypoint.sh probe).
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 quorumkv \
 && useradd --system --uid 10001 --gid quorumkv --home-dir /var/lib/quorumkv --no-create-home quorumkv \
 && mkdir -p /var/lib/quorumkv /opt/quorumkv \
 && chown quorumkv:quorumkv /var/lib/quorumkv
COPY --from=build /src/target/quorumkv-replica.jar /src/client/target/quorumkv-client.jar /opt/quorumkv/
COPY packaging/entrypoint.sh /opt/quorumkv/entrypoint.sh
USER quorumkv:quorumkv
WORKDIR /var/lib/quorumkv
# The native library goes under DATA_DIR (storage.native-library-dir), so /tmp may be noexec.
ENV PORT=7000 \
    DATA_DIR=/var/lib/quorumkv/data \
    JAVA_OPTS="-XX:MaxRAMPercentage=50 -XX:+ExitOnOutOfMemoryError"
VOLUME /var/lib/quorumkv
EXPOSE 7000
# Liveness, not readiness: readiness needs a write quorum, and an orchestrator that restarts
# an "unhealthy" container would restart every replica of a cluster whose peers are down.
# Load balancers use /health/ready (docs/operating.md, "Command line, health and logs").
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/opt/quorumkv/entrypoint.sh", "probe", "live"]
ENTRYPOINT ["/opt/quorumkv/entrypoint.sh"]
