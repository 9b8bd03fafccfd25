# One image: Debian's Traffic Server 9.2, the ats_ingress plugin, and the
# controller on Node.js 20. The builder compiles; the runtime holds no
# compilers. The install and build steps are scripts that npm test runs too.

FROM node:20-bookworm AS builder
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/ scripts/
RUN ATSI_SETUP_PROFILE=build bash scripts/setup.sh
COPY . .
RUN bash scripts/build.sh && bash scripts/container/stage-app.sh /opt/ats-ingress

FROM node:20-bookworm-slim
COPY scripts/container/install-runtime.sh /tmp/install-runtime.sh
RUN bash /tmp/install-runtime.sh && rm -rf /tmp/install-runtime.sh /var/lib/apt/lists/*
COPY --from=builder /opt/ats-ingress /opt/ats-ingress
RUN ln -s /opt/ats-ingress/ats_ingress.so /usr/lib/trafficserver/modules/ats_ingress.so
ENV NODE_ENV=production
USER 10001:10001
EXPOSE 8080 8443 10254
ENTRYPOINT []
CMD ["node", "/opt/ats-ingress/dist/src/cli/main.js", "--help"]
