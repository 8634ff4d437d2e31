// The media worker's RTP fast path (docs/media.md, "The relay's fast path"): threads of its own that forward the
// RTP of bridged legs with nothing else to do, as rtpengine's kernel module does for rtpengine. Per packet it does
// what relay-endpoint.ts's onRtp does for such a leg (validation, latching, RFC 3550 reception statistics,
// RFC 4733 key detection, u-law/A-law mapping, the SSRC/sequence/timestamp rewrite, counters), with one recvmmsg per
// readable socket and one sendmmsg per batch instead of Node's per-datagram Buffer, rinfo object and callback.
//
// The worker hands a pair over (attach) only while both legs merely relay; anything else (play, record, DTMF
// sending, SRTP, in-band detection, a new configuration, unbridge, close) takes it back first (detach), and the
// state moves with it through each endpoint's slot (an ArrayBuffer whose word layout is FP_* in fast-path.ts).
// attach, sync and detach run on the worker's thread under the same mutex as the forwarding, so once detach returns
// this thread never touches the legs again. The sockets are dup()ed: Node may close its descriptor at any time
// without this thread ever using a descriptor number reused meanwhile.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <node_api.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// Slot words (uint32). Keep in step with FP_* in services/media/worker/fast-path.ts.
enum {
  W_RX = 0, W_TX = 1, W_RELAYED = 2, W_DROPPED = 3, W_RTCP = 4, W_TX_OCTETS = 5,
  W_PT = 8, W_TE_PT, W_CODEC, W_SEND, W_LATCHED, W_REMOTE_IP, W_REMOTE_PORT,
  W_RX_VALID, W_RX_SSRC, W_RX_COUNT, W_BASE_SEQ, W_MAX_SEQ, W_CYCLES, W_TRANSIT_VALID,
  W_LAST_SEQ, W_LAST_TS, W_SEND_AGO_MS, W_SRC_KIND, W_SRC_SSRC, W_SEQ_OFF, W_TS_OFF,
  W_TE_VALID, W_TE_TS, W_TE_EVENT, W_TE_REPORTED, W_SSRC,
  W_JITTER = 40, /* float64 at words 40-41 */
  W_LAST_TRANSIT = 42, /* float64 at words 42-43 */
  SLOT_WORDS = 48
};
#define CODEC_PCMU 0
#define CODEC_PCMA 1
#define CODEC_G722 2
#define SRC_RELAY 1
#define TICK_MS 20.0
#define TICK_SAMPLES 160u
#define BATCH 8
#define MAX_PACKET 2048
#define EVENTS 64
#define WAKE_TAG UINT64_MAX

typedef struct leg {
  uint32_t gen;
  int active;
  int fd;
  int ep;
  struct leg *peer;
  uint32_t *w;
  double *wf;
  int pt, te_pt, codec, send;
  int latched;
  /* The socket is connected to `remote` (latched): sends go without an address, so no route lookup per packet. */
  int connected;
  struct sockaddr_in remote;
  int rx_valid, transit_valid;
  uint32_t rx_ssrc, rx_count, base_seq, max_seq, cycles;
  double jitter, last_transit;
  uint32_t last_seq, last_ts;
  double last_send_ms; /* < 0: never sent */
  int src_kind;
  uint32_t src_ssrc, seq_off, ts_off;
  int te_valid, te_reported;
  uint32_t te_ts;
  int te_event;
  uint32_t ssrc;
} leg;

typedef struct digit {
  int ep;
  int event;
} digit;

struct inst;

/* One forwarding thread with its own epoll set, mutex and legs: a pair stays on the thread it was attached to. */
typedef struct fwd {
  pthread_mutex_t mu;
  int epfd, wakefd;
  pthread_t thread;
  int started;
  int stop;
  leg **legs;
  uint32_t nlegs, cap;
  uint32_t pairs;
  const struct inst *I;
  /* Keys heard in this batch, handed to the worker after the lock is released. */
  digit digits[64];
  int ndigits;
  /* Receive buffers and headers of one batch (this thread only). */
  uint8_t buf[BATCH][MAX_PACKET];
  struct mmsghdr rx[BATCH], tx[BATCH];
  struct iovec rx_iov[BATCH], tx_iov[BATCH];
  struct sockaddr_in from[BATCH];
} fwd;

#define MAX_FWD 8
typedef struct inst {
  fwd *f[MAX_FWD];
  int nf;
  napi_threadsafe_function on_digit;
  uint8_t ulaw_to_alaw[256], alaw_to_ulaw[256];
} inst;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static inline uint32_t rd32(const uint8_t *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }
static inline void wr32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }

/* Payload offset, or -1 when the packet is not valid RTP (rtpPayloadOffset in rtp-packet.ts). */
static int payload_offset(const uint8_t *b, int len) {
  if (len < 12) return -1;
  if ((b[0] & 0xc0) != 0x80) return -1;
  int off = 12 + 4 * (b[0] & 0x0f);
  if (off > len) return -1;
  if (b[0] & 0x10) {
    if (off + 4 > len) return -1;
    off += 4 + 4 * ((b[off + 2] << 8) | b[off + 3]);
    if (off > len) return -1;
  }
  if (b[0] & 0x20) {
    int pad = b[len - 1];
    if (pad == 0 || off + pad > len) return -1;
  }
  return off;
}

/* RFC 3550 A.1 sequence bookkeeping and A.8 jitter (receptionStats in relay-endpoint.ts). */
static void reception_stats(leg *l, const uint8_t *b, double now) {
  uint32_t ssrc = rd32(b + 8), seq = ((uint32_t)b[2] << 8) | b[3];
  double transit = now * 8.0 - (double)rd32(b + 4);
  if (!l->rx_valid || ssrc != l->rx_ssrc) {
    l->rx_valid = 1;
    l->rx_ssrc = ssrc;
    l->rx_count = 0;
    l->base_seq = seq;
    l->max_seq = seq;
    l->cycles = 0;
    l->jitter = 0;
  } else {
    uint32_t delta = (seq - l->max_seq) & 0xffff;
    if (delta != 0 && delta < 0x8000) {
      if (seq < l->max_seq) l->cycles += 0x10000;
      l->max_seq = seq;
    }
    if (l->transit_valid) {
      double d = transit - l->last_transit;
      if (d < 0) d = -d;
      l->jitter += (d - l->jitter) / 16.0;
    }
  }
  l->last_transit = transit;
  l->transit_valid = 1;
  l->rx_count++;
}

static void queue_digit(fwd *I, leg *l, int event) {
  if (I->ndigits < (int)(sizeof I->digits / sizeof I->digits[0])) {
    I->digits[I->ndigits].ep = l->ep;
    I->digits[I->ndigits].event = event;
    I->ndigits++;
  }
}

/* RFC 4733: an event is identified by its timestamp; its end packet comes three times, the first one counts. */
static void telephone_event(fwd *I, leg *l, int event, int end, uint32_t ts) {
  if (!l->te_valid || ts != l->te_ts) {
    if (l->te_valid && !l->te_reported) queue_digit(I, l, l->te_event);
    l->te_valid = 1;
    l->te_ts = ts;
    l->te_event = event;
    l->te_reported = 0;
  }
  if (end && !l->te_reported) {
    l->te_reported = 1;
    queue_digit(I, l, event);
  }
}

/* One received packet of leg l: returns its length to send to l->peer (rewritten in place), or 0 to drop it. */
static int relay_one(fwd *I, leg *l, uint8_t *b, int len, const struct sockaddr_in *from, double now) {
  uint32_t *c = l->w;
  c[W_RX]++;
  int off = payload_offset(b, len);
  if (off < 0) {
    c[W_DROPPED]++;
    return 0;
  }
  if (!l->latched) {
    /* Symmetric RTP (RFC 4961), and as in the worker the socket is connected to the source: the kernel drops RTP
       from anyone else from now on. */
    l->remote = *from;
    l->latched = 1;
    l->connected = connect(l->fd, (const struct sockaddr *)from, sizeof *from) == 0;
  }
  int pt = b[1] & 0x7f;
  if (pt == l->pt || pt == l->te_pt) reception_stats(l, b, now);
  int end = (b[0] & 0x20) ? len - b[len - 1] : len;
  leg *p = l->peer;
  int out_pt;
  if (pt == l->pt) {
    if (!p->send) return 0;
    if (p->codec != l->codec) {
      if (l->codec == CODEC_G722 || p->codec == CODEC_G722) {
        c[W_DROPPED]++;
        return 0;
      }
      const uint8_t *map = l->codec == CODEC_PCMU ? I->I->ulaw_to_alaw : I->I->alaw_to_ulaw;
      for (int i = off; i < end; i++) b[i] = map[b[i]];
    }
    out_pt = p->pt;
  } else if (pt == l->te_pt) {
    if (end - off >= 4) telephone_event(I, l, b[off], (b[off + 1] & 0x80) != 0, rd32(b + 4));
    if (!p->send || p->te_pt < 0) return 0;
    out_pt = p->te_pt;
  } else {
    c[W_DROPPED]++;
    return 0;
  }
  uint32_t ssrc = rd32(b + 8), seq = ((uint32_t)b[2] << 8) | b[3], ts = rd32(b + 4);
  int marker = (b[1] & 0x80) != 0;
  if (p->src_kind != SRC_RELAY || p->src_ssrc != ssrc) {
    double ticks = p->last_send_ms < 0 ? 1 : (now - p->last_send_ms) / TICK_MS;
    uint32_t elapsed = ticks < 1 ? 1 : (uint32_t)ticks;
    p->seq_off = (p->last_seq + 1 - seq) & 0xffff;
    p->ts_off = p->last_ts + elapsed * TICK_SAMPLES - ts;
    p->src_kind = SRC_RELAY;
    p->src_ssrc = ssrc;
    marker = 1;
  }
  uint32_t oseq = (seq + p->seq_off) & 0xffff, ots = ts + p->ts_off;
  b[1] = (uint8_t)((marker ? 0x80 : 0) | out_pt);
  b[2] = oseq >> 8;
  b[3] = oseq & 0xff;
  wr32(b + 4, ots);
  wr32(b + 8, p->ssrc);
  p->last_seq = oseq;
  p->last_ts = ots;
  p->last_send_ms = now;
  c[W_RELAYED]++;
  p->w[W_TX]++;
  p->w[W_TX_OCTETS] += (uint32_t)(end - off);
  return len;
}

static void receive(fwd *I, leg *l, double now) {
  for (int i = 0; i < BATCH; i++) {
    I->rx_iov[i].iov_base = I->buf[i];
    I->rx_iov[i].iov_len = MAX_PACKET;
    memset(&I->rx[i].msg_hdr, 0, sizeof I->rx[i].msg_hdr);
    I->rx[i].msg_hdr.msg_iov = &I->rx_iov[i];
    I->rx[i].msg_hdr.msg_iovlen = 1;
    I->rx[i].msg_hdr.msg_name = &I->from[i];
    I->rx[i].msg_hdr.msg_namelen = sizeof I->from[i];
  }
  int n = recvmmsg(l->fd, I->rx, BATCH, MSG_DONTWAIT, NULL);
  if (n <= 0) return;
  leg *p = l->peer;
  int out = 0;
  for (int i = 0; i < n; i++) {
    if (I->rx[i].msg_hdr.msg_flags & MSG_TRUNC) {
      /* Longer than any RTP packet a phone sends (G.711 at 60 ms is 492 bytes): not relayed cut short. */
      l->w[W_RX]++;
      l->w[W_DROPPED]++;
      continue;
    }
    int len = relay_one(I, l, I->buf[i], (int)I->rx[i].msg_len, &I->from[i], now);
    if (len <= 0) continue;
    I->tx_iov[out].iov_base = I->buf[i];
    I->tx_iov[out].iov_len = (size_t)len;
    memset(&I->tx[out].msg_hdr, 0, sizeof I->tx[out].msg_hdr);
    I->tx[out].msg_hdr.msg_iov = &I->tx_iov[out];
    I->tx[out].msg_hdr.msg_iovlen = 1;
    I->tx[out].msg_hdr.msg_name = p->connected ? NULL : &p->remote;
    I->tx[out].msg_hdr.msg_namelen = p->connected ? 0 : sizeof p->remote;
    out++;
  }
  /* Errors (the remote's port closed: ECONNREFUSED; a full buffer) lose the packet, as with Node's send. */
  if (out == 1 && p->connected) send(p->fd, I->tx_iov[0].iov_base, I->tx_iov[0].iov_len, MSG_DONTWAIT);
  else if (out == 1) sendto(p->fd, I->tx_iov[0].iov_base, I->tx_iov[0].iov_len, MSG_DONTWAIT, (struct sockaddr *)&p->remote, sizeof p->remote);
  else if (out > 1) sendmmsg(p->fd, I->tx, (unsigned)out, MSG_DONTWAIT);
}

static void *run(void *arg) {
  fwd *I = arg;
  struct epoll_event evs[EVENTS];
  for (;;) {
    int n = epoll_wait(I->epfd, evs, EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    pthread_mutex_lock(&I->mu);
    if (I->stop) {
      pthread_mutex_unlock(&I->mu);
      break;
    }
    double now = now_ms();
    for (int k = 0; k < n; k++) {
      uint64_t d = evs[k].data.u64;
      if (d == WAKE_TAG) {
        uint64_t v;
        if (read(I->wakefd, &v, sizeof v) < 0) { /* nothing to read */ }
        continue;
      }
      uint32_t idx = (uint32_t)d, gen = (uint32_t)(d >> 32);
      if (idx >= I->nlegs) continue;
      leg *l = I->legs[idx];
      if (l == NULL || !l->active || l->gen != gen) continue;
      receive(I, l, now);
    }
    int nd = I->ndigits;
    digit pending[64];
    memcpy(pending, I->digits, sizeof(digit) * (size_t)nd);
    I->ndigits = 0;
    pthread_mutex_unlock(&I->mu);
    for (int i = 0; i < nd; i++) {
      digit *dg = malloc(sizeof *dg);
      if (dg == NULL) continue;
      *dg = pending[i];
      if (napi_call_threadsafe_function(I->I->on_digit, dg, napi_tsfn_nonblocking) != napi_ok) free(dg);
    }
  }
  return NULL;
}

/* ---- slot exchange ---- */

static void copy_in(leg *l, double now) {
  uint32_t *w = l->w;
  l->pt = (int)(int32_t)w[W_PT];
  l->te_pt = (int)(int32_t)w[W_TE_PT];
  l->codec = (int)w[W_CODEC];
  l->send = w[W_SEND] != 0;
  l->latched = w[W_LATCHED] != 0;
  memset(&l->remote, 0, sizeof l->remote);
  l->remote.sin_family = AF_INET;
  l->remote.sin_addr.s_addr = htonl(w[W_REMOTE_IP]);
  l->remote.sin_port = htons((uint16_t)w[W_REMOTE_PORT]);
  /* The worker connects a latched leg's socket (to the same address) unless that failed. */
  struct sockaddr_in peer;
  socklen_t peer_len = sizeof peer;
  l->connected = l->latched && getpeername(l->fd, (struct sockaddr *)&peer, &peer_len) == 0 && peer.sin_family == AF_INET &&
                 peer.sin_addr.s_addr == l->remote.sin_addr.s_addr && peer.sin_port == l->remote.sin_port;
  l->rx_valid = w[W_RX_VALID] != 0;
  l->rx_ssrc = w[W_RX_SSRC];
  l->rx_count = w[W_RX_COUNT];
  l->base_seq = w[W_BASE_SEQ];
  l->max_seq = w[W_MAX_SEQ];
  l->cycles = w[W_CYCLES];
  l->jitter = l->wf[W_JITTER / 2];
  /* The worker's clock is not this one: the first packet here only sets the transit base. */
  l->transit_valid = 0;
  l->last_transit = 0;
  l->last_seq = w[W_LAST_SEQ];
  l->last_ts = w[W_LAST_TS];
  int32_t ago = (int32_t)w[W_SEND_AGO_MS];
  l->last_send_ms = ago < 0 ? -1 : now - ago;
  l->src_kind = (int)w[W_SRC_KIND];
  l->src_ssrc = w[W_SRC_SSRC];
  l->seq_off = w[W_SEQ_OFF];
  l->ts_off = w[W_TS_OFF];
  l->te_valid = w[W_TE_VALID] != 0;
  l->te_ts = w[W_TE_TS];
  l->te_event = (int)w[W_TE_EVENT];
  l->te_reported = w[W_TE_REPORTED] != 0;
  l->ssrc = w[W_SSRC];
}

static void copy_out(leg *l, double now) {
  uint32_t *w = l->w;
  w[W_LATCHED] = (uint32_t)l->latched;
  w[W_REMOTE_IP] = ntohl(l->remote.sin_addr.s_addr);
  w[W_REMOTE_PORT] = ntohs(l->remote.sin_port);
  w[W_RX_VALID] = (uint32_t)l->rx_valid;
  w[W_RX_SSRC] = l->rx_ssrc;
  w[W_RX_COUNT] = l->rx_count;
  w[W_BASE_SEQ] = l->base_seq;
  w[W_MAX_SEQ] = l->max_seq;
  w[W_CYCLES] = l->cycles;
  w[W_TRANSIT_VALID] = 0;
  l->wf[W_JITTER / 2] = l->jitter;
  w[W_LAST_SEQ] = l->last_seq;
  w[W_LAST_TS] = l->last_ts;
  double ago = l->last_send_ms < 0 ? -1 : now - l->last_send_ms;
  w[W_SEND_AGO_MS] = ago < 0 ? (uint32_t)-1 : (uint32_t)(ago > 1e9 ? 1e9 : ago);
  w[W_SRC_KIND] = (uint32_t)l->src_kind;
  w[W_SRC_SSRC] = l->src_ssrc;
  w[W_SEQ_OFF] = l->seq_off;
  w[W_TS_OFF] = l->ts_off;
  w[W_TE_VALID] = (uint32_t)l->te_valid;
  w[W_TE_TS] = l->te_ts;
  w[W_TE_EVENT] = (uint32_t)l->te_event;
  w[W_TE_REPORTED] = (uint32_t)l->te_reported;
}

/* ---- N-API ---- */

#define CHECK(env, call, msg)                            \
  do {                                                   \
    if ((call) != napi_ok) {                             \
      napi_throw_error((env), "ERR_RTP_FORWARD", (msg)); \
      return NULL;                                       \
    }                                                    \
  } while (0)

static void call_digit(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)context;
  digit *d = data;
  if (env != NULL && js_cb != NULL) {
    napi_value undef, argv[2];
    napi_get_undefined(env, &undef);
    napi_create_int32(env, d->ep, &argv[0]);
    napi_create_int32(env, d->event, &argv[1]);
    napi_call_function(env, undef, js_cb, 2, argv, NULL);
  }
  free(d);
}

static void stop_fwd(fwd *F) {
  if (F->started) {
    pthread_mutex_lock(&F->mu);
    F->stop = 1;
    pthread_mutex_unlock(&F->mu);
    uint64_t one = 1;
    if (write(F->wakefd, &one, sizeof one) < 0) { /* the thread still sees stop at its next wake */ }
    pthread_join(F->thread, NULL);
    F->started = 0;
  }
  for (uint32_t i = 0; i < F->nlegs; i++) {
    leg *l = F->legs[i];
    if (l == NULL) continue;
    if (l->active) close(l->fd);
    free(l);
  }
  free(F->legs);
  if (F->epfd >= 0) close(F->epfd);
  if (F->wakefd >= 0) close(F->wakefd);
  pthread_mutex_destroy(&F->mu);
  free(F);
}

static void shutdown_inst(void *arg) {
  inst *I = arg;
  for (int i = 0; i < I->nf; i++) stop_fwd(I->f[i]);
  I->nf = 0;
  if (I->on_digit) napi_release_threadsafe_function(I->on_digit, napi_tsfn_abort);
  free(I);
}

/* A forwarding thread, started; NULL with errno set when it cannot be. With rt_priority > 0 it asks for SCHED_FIFO
 * at that priority (docs/media.md, "Thread priorities"); *rt_err gets 0 or why it was refused (then the thread
 * keeps the worker's priority, which it inherited). */
static fwd *start_fwd(const inst *I, int rt_priority, int *rt_err) {
  fwd *F = calloc(1, sizeof *F);
  if (F == NULL) return NULL;
  F->I = I;
  pthread_mutex_init(&F->mu, NULL);
  F->epfd = epoll_create1(EPOLL_CLOEXEC);
  F->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_TAG};
  if (F->epfd < 0 || F->wakefd < 0 || epoll_ctl(F->epfd, EPOLL_CTL_ADD, F->wakefd, &ev) != 0 || pthread_create(&F->thread, NULL, run, F) != 0) {
    int err = errno;
    stop_fwd(F);
    errno = err;
    return NULL;
  }
  F->started = 1;
  // Named so that `top -H`, `ps -L` and perf show the forwarding thread apart from Node's own (at most 15 chars).
  pthread_setname_np(F->thread, "rtp-forward");
  *rt_err = 0;
  if (rt_priority > 0) {
    struct sched_param sp = {.sched_priority = rt_priority};
    *rt_err = pthread_setschedparam(F->thread, SCHED_FIFO, &sp);
  }
  return F;
}

static inst *get_inst(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) != napi_ok) return NULL;
  return data;
}

/* open(onDigit(ep, event), ulawToAlaw: Uint8Array(256), alawToUlaw: Uint8Array(256), threads, rtPriority): starts the
 * forwarding threads; returns their scheduling: "SCHED_FIFO <priority>", "normal", or "normal (SCHED_FIFO <p>: <why not>)". */
static napi_value js_open(napi_env env, napi_callback_info info) {
  if (get_inst(env) != NULL) {
    napi_throw_error(env, "ERR_RTP_FORWARD", "rtp-forward is already open in this thread");
    return NULL;
  }
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), "bad arguments");
  int32_t threads = 1, rt_priority = 0;
  if (argc < 5 || napi_get_value_int32(env, argv[3], &threads) != napi_ok || threads < 1 || threads > MAX_FWD ||
      napi_get_value_int32(env, argv[4], &rt_priority) != napi_ok || rt_priority < 0 || rt_priority > 99) {
    napi_throw_type_error(env, "ERR_RTP_FORWARD", "open(onDigit, ulawToAlaw, alawToUlaw, threads 1-8, rtPriority 0-99)");
    return NULL;
  }
  inst *I = calloc(1, sizeof *I);
  if (I == NULL) {
    napi_throw_error(env, "ERR_RTP_FORWARD", "out of memory");
    return NULL;
  }
  for (int t = 0; t < 2; t++) {
    napi_typedarray_type type;
    size_t length;
    void *data;
    if (napi_get_typedarray_info(env, argv[1 + t], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array || length != 256) {
      free(I);
      napi_throw_type_error(env, "ERR_RTP_FORWARD", "the G.711 maps must be Uint8Array(256)");
      return NULL;
    }
    memcpy(t == 0 ? I->ulaw_to_alaw : I->alaw_to_ulaw, data, 256);
  }
  napi_value name;
  napi_create_string_utf8(env, "rtp-forward digit", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[0], NULL, name, 0, 1, NULL, NULL, NULL, call_digit, &I->on_digit) != napi_ok) {
    free(I);
    napi_throw_error(env, "ERR_RTP_FORWARD", "cannot create the digit callback");
    return NULL;
  }
  /* The callback must not keep the worker's event loop alive. */
  napi_unref_threadsafe_function(env, I->on_digit);
  int rt_err = 0;
  for (int t = 0; t < threads; t++) {
    int err_t = 0;
    fwd *F = start_fwd(I, rt_priority, &err_t);
    if (err_t != 0) rt_err = err_t;
    if (F == NULL) {
      int err = errno;
      shutdown_inst(I);
      napi_throw_error(env, "ERR_RTP_FORWARD", strerror(err));
      return NULL;
    }
    I->f[I->nf++] = F;
  }
  napi_set_instance_data(env, I, NULL, NULL);
  napi_add_env_cleanup_hook(env, shutdown_inst, I);
  char said[160];
  if (rt_priority == 0) snprintf(said, sizeof said, "normal");
  else if (rt_err == 0) snprintf(said, sizeof said, "SCHED_FIFO %d", rt_priority);
  else snprintf(said, sizeof said, "normal (SCHED_FIFO %d: %s)", rt_priority, strerror(rt_err));
  napi_value out;
  napi_create_string_utf8(env, said, NAPI_AUTO_LENGTH, &out);
  return out;
}

static int slot_of(napi_env env, napi_value v, uint32_t **w) {
  void *data;
  size_t len;
  if (napi_get_arraybuffer_info(env, v, &data, &len) != napi_ok || len < SLOT_WORDS * 4) return -1;
  *w = data;
  return 0;
}

static leg *new_leg(fwd *I, uint32_t *idx) {
  for (uint32_t i = 0; i < I->nlegs; i++) {
    if (I->legs[i] != NULL && !I->legs[i]->active) {
      *idx = i;
      return I->legs[i];
    }
  }
  if (I->nlegs == I->cap) {
    uint32_t cap = I->cap ? I->cap * 2 : 64;
    leg **grown = realloc(I->legs, sizeof(leg *) * cap);
    if (grown == NULL) return NULL;
    I->legs = grown;
    I->cap = cap;
  }
  leg *l = calloc(1, sizeof *l);
  if (l == NULL) return NULL;
  *idx = I->nlegs;
  I->legs[I->nlegs++] = l;
  return l;
}

static void drop_leg(fwd *I, leg *l) {
  epoll_ctl(I->epfd, EPOLL_CTL_DEL, l->fd, NULL);
  close(l->fd);
  l->active = 0;
  l->gen++;
  l->peer = NULL;
}

/* Pair handles: the thread's index in the top byte, A's leg index below. */
#define HANDLE_SHIFT 24

/* attach(epA, fdA, slotA, epB, fdB, slotB): both legs forward from now on, on the thread with the fewest pairs;
   returns the pair's handle. */
static napi_value js_attach(napi_env env, napi_callback_info info) {
  inst *II = get_inst(env);
  if (II == NULL) {
    napi_throw_error(env, "ERR_RTP_FORWARD", "rtp-forward is not open");
    return NULL;
  }
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL), "bad arguments");
  int32_t ep[2], fd[2];
  uint32_t *w[2];
  for (int s = 0; s < 2; s++) {
    if (argc < 6 || napi_get_value_int32(env, argv[3 * s], &ep[s]) != napi_ok || napi_get_value_int32(env, argv[3 * s + 1], &fd[s]) != napi_ok ||
        slot_of(env, argv[3 * s + 2], &w[s]) != 0) {
      napi_throw_type_error(env, "ERR_RTP_FORWARD", "attach(epA, fdA, slotA, epB, fdB, slotB): slots are ArrayBuffers of 192 bytes");
      return NULL;
    }
  }
  int fi = 0;
  for (int i = 1; i < II->nf; i++)
    if (II->f[i]->pairs < II->f[fi]->pairs) fi = i;
  fwd *I = II->f[fi];
  pthread_mutex_lock(&I->mu);
  double now = now_ms();
  leg *legs[2] = {NULL, NULL};
  uint32_t idx[2] = {0, 0};
  const char *fail = NULL;
  int err = 0;
  for (int s = 0; s < 2 && fail == NULL; s++) {
    legs[s] = new_leg(I, &idx[s]);
    if (legs[s] == NULL) {
      fail = "out of memory";
      break;
    }
    leg *l = legs[s];
    /* Reserve the slot before the next new_leg() looks for a free one. */
    l->active = 1;
    l->fd = fcntl(fd[s], F_DUPFD_CLOEXEC, 0);
    if (l->fd < 0) {
      err = errno;
      l->active = 0;
      legs[s] = NULL;
      fail = "dup";
      break;
    }
    l->ep = ep[s];
    l->w = w[s];
    l->wf = (double *)w[s];
    copy_in(l, now);
  }
  if (fail == NULL) {
    legs[0]->peer = legs[1];
    legs[1]->peer = legs[0];
    for (int s = 0; s < 2 && fail == NULL; s++) {
      struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t)legs[s]->gen << 32) | idx[s]};
      if (epoll_ctl(I->epfd, EPOLL_CTL_ADD, legs[s]->fd, &ev) != 0) {
        err = errno;
        fail = "epoll";
      }
    }
  }
  if (fail != NULL) {
    for (int s = 0; s < 2; s++)
      if (legs[s] != NULL && legs[s]->active) drop_leg(I, legs[s]);
  } else I->pairs++;
  pthread_mutex_unlock(&I->mu);
  if (fail != NULL) {
    napi_throw_error(env, "ERR_RTP_FORWARD", err ? strerror(err) : fail);
    return NULL;
  }
  napi_value h;
  napi_create_uint32(env, ((uint32_t)fi << HANDLE_SHIFT) | idx[0], &h);
  return h;
}

/* The thread of a pair handle (its mutex to take), or NULL after throwing. */
static fwd *fwd_of(napi_env env, napi_callback_info info, uint32_t *idx) {
  inst *II = get_inst(env);
  size_t argc = 1;
  napi_value argv[1];
  uint32_t h;
  if (II == NULL || napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_uint32(env, argv[0], &h) != napi_ok ||
      (int)(h >> HANDLE_SHIFT) >= II->nf) {
    napi_throw_error(env, "ERR_RTP_FORWARD", "no attached pair with this handle");
    return NULL;
  }
  *idx = h & ((1u << HANDLE_SHIFT) - 1);
  return II->f[h >> HANDLE_SHIFT];
}

/* A's leg of an attached pair (call with F->mu held), or NULL after throwing. */
static leg *pair_of(napi_env env, fwd *F, uint32_t idx) {
  if (idx >= F->nlegs || F->legs[idx] == NULL || !F->legs[idx]->active) {
    napi_throw_error(env, "ERR_RTP_FORWARD", "no attached pair with this handle");
    return NULL;
  }
  return F->legs[idx];
}

/* Both legs' state of the pair `handle` to their slots; with `release`, the thread also lets go of both sockets. */
static napi_value give_back(napi_env env, napi_callback_info info, int release) {
  uint32_t idx;
  fwd *F = fwd_of(env, info, &idx);
  if (F == NULL) return NULL;
  pthread_mutex_lock(&F->mu);
  leg *a = pair_of(env, F, idx);
  if (a != NULL) {
    double now = now_ms();
    leg *b = a->peer;
    copy_out(a, now);
    copy_out(b, now);
    if (release) {
      drop_leg(F, a);
      drop_leg(F, b);
      F->pairs--;
    }
  }
  pthread_mutex_unlock(&F->mu);
  return NULL;
}

/* sync(handle): the pair's state to its slots, still attached (for RTCP reports). */
static napi_value js_sync(napi_env env, napi_callback_info info) { return give_back(env, info, 0); }

/* detach(handle): the pair's state to its slots, and the thread lets go of both sockets. */
static napi_value js_detach(napi_env env, napi_callback_info info) { return give_back(env, info, 1); }

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"attach", NULL, js_attach, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sync", NULL, js_sync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"detach", NULL, js_detach, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_value slotWords;
  napi_create_uint32(env, SLOT_WORDS, &slotWords);
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_set_named_property(env, exports, "slotWords", slotWords);
  return exports;
}
