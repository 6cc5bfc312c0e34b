/* scripts/bench/rtcpeer_codec.c: --codecs, real media for every rtcpeer guest: a VP8 picture
 * (libvpx, 160x120 at 10 frames a second, a bright square crossing a gradient, as the browsers'
 * camera of tests/webrtc/camera.py) and an Opus tone (libopus, 20 ms frames, 48 kHz mono), so
 * that a browser in the same meeting decodes the guests' video and plays their audio.
 *
 * DESIGN: one encoder of each kind for the whole process, each frame sent by every guest that is
 * connected (under its own SSRC, sequence numbers and timestamps). A room of nine guests then
 * costs one encoding, not nine; what a browser receives from each guest is a real stream all
 * the same. A key frame asked for by anyone (a PLI or FIR to any guest, a guest connecting) is
 * made for everyone: a few extra key frames, never a receiver without one. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <opus.h>
#include <vpx/vp8cx.h>
#include <vpx/vpx_encoder.h>

#include "scripts/bench/rtcpeer.h"

#define WIDTH 160
#define HEIGHT 120
#define FPS 10
#define VIDEO_KBPS 150
#define AUDIO_FRAME 960 /* samples: 20 ms at 48 kHz */
#define TONE_HZ 440.0

struct peer_codec {
    vpx_codec_ctx_t vp8;
    vpx_image_t img;
    bool vp8_ready, img_ready;
    OpusEncoder *opus;
    int64_t next_us[PEER_KINDS];
    unsigned frame;
    bool force_key;
    double phase;
};

int peer_codec_new(struct peer_codec **ret)
{
    struct peer_codec *c = calloc(1, sizeof(*c));
    vpx_codec_enc_cfg_t cfg;
    int err = 0;

    *ret = NULL;
    if (!c)
        return -ENOMEM;
    if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0) == VPX_CODEC_OK) {
        cfg.g_w = WIDTH;
        cfg.g_h = HEIGHT;
        cfg.g_timebase.num = 1;
        cfg.g_timebase.den = FPS;
        cfg.g_threads = 1;
        cfg.g_lag_in_frames = 0; /* real time: every frame out as it goes in */
        cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
        cfg.rc_end_usage = VPX_CBR;
        cfg.rc_target_bitrate = VIDEO_KBPS;
        cfg.kf_mode = VPX_KF_DISABLED; /* key frames when asked for, as a browser's sender */
        c->vp8_ready = vpx_codec_enc_init(&c->vp8, vpx_codec_vp8_cx(), &cfg, 0) == VPX_CODEC_OK;
    }
    if (c->vp8_ready)
        (void)vpx_codec_control(&c->vp8, VP8E_SET_CPUUSED, 16);
    c->img_ready = vpx_img_alloc(&c->img, VPX_IMG_FMT_I420, WIDTH, HEIGHT, 1) != NULL;
    c->opus = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
    if (!c->vp8_ready || !c->img_ready || !c->opus || err != OPUS_OK) {
        peer_codec_free(c);
        return -EINVAL;
    }
    c->force_key = true;
    *ret = c;
    return 0;
}

void peer_codec_free(struct peer_codec *c)
{
    if (!c)
        return;
    if (c->vp8_ready)
        vpx_codec_destroy(&c->vp8);
    if (c->img_ready)
        vpx_img_free(&c->img);
    if (c->opus)
        opus_encoder_destroy(c->opus);
    free(c);
}

void peer_codec_key_frame(struct peer_codec *c)
{
    c->force_key = true;
}

/* Picture i: a gradient, a bright square at a place that moves with i, flat chroma. */
static void draw(vpx_image_t *img, unsigned i)
{
    const unsigned side = 24, left = (i % 40) * (WIDTH - side) / 40, top = (HEIGHT - side) / 2;

    for (unsigned y = 0; y < HEIGHT; y++) {
        uint8_t *row = img->planes[VPX_PLANE_Y] + (size_t)y * (size_t)img->stride[VPX_PLANE_Y];

        for (unsigned x = 0; x < WIDTH; x++)
            row[x] = (uint8_t)((x + y) % 200 + 16);
        if (y >= top && y < top + side)
            memset(row + left, 0xeb, side);
    }
    for (int p = VPX_PLANE_U; p <= VPX_PLANE_V; p++)
        for (unsigned y = 0; y < HEIGHT / 2; y++)
            memset(img->planes[p] + (size_t)y * (size_t)img->stride[p], 128, WIDTH / 2);
}

static void encode_video(struct peer_codec *c, peer_codec_send_fn send, void *userdata)
{
    const vpx_codec_cx_pkt_t *pkt;
    vpx_codec_iter_t iter = NULL;

    draw(&c->img, c->frame);
    if (vpx_codec_encode(&c->vp8, &c->img, c->frame, 1, c->force_key ? VPX_EFLAG_FORCE_KF : 0,
                         VPX_DL_REALTIME) != VPX_CODEC_OK)
        return;
    c->force_key = false;
    c->frame++;
    while ((pkt = vpx_codec_get_cx_data(&c->vp8, &iter)))
        if (pkt->kind == VPX_CODEC_CX_FRAME_PKT)
            send(userdata, 1, pkt->data.frame.buf, pkt->data.frame.sz,
                 (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0, 90000 / FPS);
}

static void encode_audio(struct peer_codec *c, peer_codec_send_fn send, void *userdata)
{
    opus_int16 pcm[AUDIO_FRAME];
    unsigned char out[400];
    opus_int32 n;

    for (int i = 0; i < AUDIO_FRAME; i++) {
        pcm[i] = (opus_int16)(6000.0 * sin(c->phase));
        c->phase += 2.0 * M_PI * TONE_HZ / 48000.0;
    }
    c->phase = fmod(c->phase, 2.0 * M_PI);
    n = opus_encode(c->opus, pcm, AUDIO_FRAME, out, (opus_int32)sizeof(out));
    if (n > 0)
        send(userdata, 0, out, (size_t)n, false, AUDIO_FRAME);
}

void peer_codec_tick(struct peer_codec *c, int64_t now_us, peer_codec_send_fn send, void *userdata)
{
    static const int64_t gap_us[PEER_KINDS] = {20000, 1000000 / FPS};

    for (int k = 0; k < PEER_KINDS; k++) {
        if (c->next_us[k] < now_us - 200000)
            c->next_us[k] = now_us; /* the loop stalled: no burst to catch up */
        while (c->next_us[k] <= now_us) {
            if (k == 0)
                encode_audio(c, send, userdata);
            else
                encode_video(c, send, userdata);
            c->next_us[k] += gap_us[k];
        }
    }
}
