/* tests/test_webrtc_sdp.c: the SDP parser and offer writer (media/webrtc/sdp.c) against real
 * browser SDP, every refusal the contract names, and the writer's round trip and bounds. No
 * sockets.
 *
 * Where the vectors come from: the chrome_* ones were captured from Chromium 156.0.8078.114 on
 * this machine (headless, driven over --remote-debugging-pipe): chrome_answer_mdns is its answer
 * to writer_offer_chrome_accepted (this writer's output, which Chrome took as a remote offer),
 * sending canvas and WebAudio tracks on mids 0 and 1, so its host candidates are mDNS names;
 * chrome_answer_ip is the same with the fake camera granted, which makes Chrome show its IPv4,
 * IPv6 and TCP candidates; chrome_offer is Chrome's own offer for two sendrecv and two recvonly
 * transceivers (extmap, RTX and its ssrc-group:FID, many codecs). The Firefox vectors are as
 * Firefox wrote them, from public captures: firefox68_audio_offer (a FreeSWITCH interop log, 20
 * candidates with RTCP components, IPv6 and TCP active ones) and firefox61_video_offer (aiortc's
 * tests/test_sdp.py). The candidates in the candidate tests are Chrome 156's trickled ones and
 * RFC 8839's examples. The documentation addresses (192.0.2.2, fd00::2) are this machine's. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/webrtc/sdp.h"
#include "tests/suites.h"

static const char chrome_answer_mdns[] =
    "v=0\r\n"
    "o=- 2771641399256705652 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1 2 3\r\n"
    "a=msid-semantic: WMS 07c4dfa9-4a69-40ef-a8f5-4a468b0cf102\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:641208375 1 udp 2113937151 85e990c8-5e58-44bf-97d2-13dcac8240c1.local 37660 typ "
    "host generation 0 network-cost 999\r\n"
    "a=candidate:3982414295 1 udp 2113942271 ed016d91-be26-4d8a-b130-45f02883ea66.local 40454 typ "
    "host generation 0 network-cost 999\r\n"
    "a=ice-ufrag:ip9j\r\n"
    "a=ice-pwd:sWFHzTGMGSUdNUQvAboq2wGz\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "69:97:C7:86:D4:BE:D7:3A:92:58:F6:3E:D7:38:25:F5:9A:42:DF:67:5D:E1:FD:40:5A:84:F4:EF:8C:BF:FC:"
    "6C\r\n"
    "a=setup:active\r\n"
    "a=mid:0\r\n"
    "a=sendonly\r\n"
    "a=msid:07c4dfa9-4a69-40ef-a8f5-4a468b0cf102 9ae899ec-5f6a-4745-8004-b0c5d55b0953\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=ssrc:1090902261 cname:HzjkSeSMSwK8vBr8\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:ip9j\r\n"
    "a=ice-pwd:sWFHzTGMGSUdNUQvAboq2wGz\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "69:97:C7:86:D4:BE:D7:3A:92:58:F6:3E:D7:38:25:F5:9A:42:DF:67:5D:E1:FD:40:5A:84:F4:EF:8C:BF:FC:"
    "6C\r\n"
    "a=setup:active\r\n"
    "a=mid:1\r\n"
    "a=sendonly\r\n"
    "a=msid:07c4dfa9-4a69-40ef-a8f5-4a468b0cf102 d762952a-893a-41d8-8cdc-59c93af9c08f\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=ssrc:1196314461 cname:HzjkSeSMSwK8vBr8\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:ip9j\r\n"
    "a=ice-pwd:sWFHzTGMGSUdNUQvAboq2wGz\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "69:97:C7:86:D4:BE:D7:3A:92:58:F6:3E:D7:38:25:F5:9A:42:DF:67:5D:E1:FD:40:5A:84:F4:EF:8C:BF:FC:"
    "6C\r\n"
    "a=setup:active\r\n"
    "a=mid:2\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:ip9j\r\n"
    "a=ice-pwd:sWFHzTGMGSUdNUQvAboq2wGz\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "69:97:C7:86:D4:BE:D7:3A:92:58:F6:3E:D7:38:25:F5:9A:42:DF:67:5D:E1:FD:40:5A:84:F4:EF:8C:BF:FC:"
    "6C\r\n"
    "a=setup:active\r\n"
    "a=mid:3\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:ydob\r\n"
    "a=ice-pwd:j5+fEQCsy9Fno4uu5uy4S4tc\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "69:97:C7:86:D4:BE:D7:3A:92:58:F6:3E:D7:38:25:F5:9A:42:DF:67:5D:E1:FD:40:5A:84:F4:EF:8C:BF:FC:"
    "6C\r\n"
    "a=setup:active\r\n"
    "a=mid:4\r\n"
    "a=inactive\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:LROp\r\n"
    "a=ice-pwd:cyAgGfdpCaBHO0coQ2Cj5r1Y\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "69:97:C7:86:D4:BE:D7:3A:92:58:F6:3E:D7:38:25:F5:9A:42:DF:67:5D:E1:FD:40:5A:84:F4:EF:8C:BF:FC:"
    "6C\r\n"
    "a=setup:active\r\n"
    "a=mid:5\r\n"
    "a=inactive\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n";

static const char chrome_answer_ip[] =
    "v=0\r\n"
    "o=- 1141928548409843995 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1 2 3\r\n"
    "a=msid-semantic: WMS acb04da2-f35d-429c-b170-10084701286b\r\n"
    "m=audio 49654 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 192.0.2.2\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:2723009690 1 udp 2122194687 192.0.2.2 49654 typ host generation 0 network-id 1\r\n"
    "a=candidate:1764431226 1 udp 2122265343 fd00::2 34257 typ host generation 0 network-id 2\r\n"
    "a=candidate:1558642702 1 tcp 1518214911 192.0.2.2 9 typ host tcptype active generation 0 "
    "network-id 1\r\n"
    "a=candidate:2541863406 1 tcp 1518285567 fd00::2 9 typ host tcptype active generation 0 "
    "network-id 2\r\n"
    "a=ice-ufrag:PFlX\r\n"
    "a=ice-pwd:zXZBCQA7mQ6KYVh9qjyIq1lP\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "20:B1:E3:F1:EC:3F:2E:C5:E5:CA:9E:C0:C2:0A:44:C3:B6:D1:85:39:51:B5:18:32:8D:DB:71:C6:8A:AB:BC:"
    "34\r\n"
    "a=setup:active\r\n"
    "a=mid:0\r\n"
    "a=sendonly\r\n"
    "a=msid:acb04da2-f35d-429c-b170-10084701286b 1d70ce54-0cd7-455b-b5c1-1135a8cf97a1\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=ssrc:3350886393 cname:zVR3eBvnA/Oj3aII\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:PFlX\r\n"
    "a=ice-pwd:zXZBCQA7mQ6KYVh9qjyIq1lP\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "20:B1:E3:F1:EC:3F:2E:C5:E5:CA:9E:C0:C2:0A:44:C3:B6:D1:85:39:51:B5:18:32:8D:DB:71:C6:8A:AB:BC:"
    "34\r\n"
    "a=setup:active\r\n"
    "a=mid:1\r\n"
    "a=sendonly\r\n"
    "a=msid:acb04da2-f35d-429c-b170-10084701286b 4b90f138-2869-4c50-8338-f4b1250d5735\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=ssrc:608754646 cname:zVR3eBvnA/Oj3aII\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:PFlX\r\n"
    "a=ice-pwd:zXZBCQA7mQ6KYVh9qjyIq1lP\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "20:B1:E3:F1:EC:3F:2E:C5:E5:CA:9E:C0:C2:0A:44:C3:B6:D1:85:39:51:B5:18:32:8D:DB:71:C6:8A:AB:BC:"
    "34\r\n"
    "a=setup:active\r\n"
    "a=mid:2\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:PFlX\r\n"
    "a=ice-pwd:zXZBCQA7mQ6KYVh9qjyIq1lP\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "20:B1:E3:F1:EC:3F:2E:C5:E5:CA:9E:C0:C2:0A:44:C3:B6:D1:85:39:51:B5:18:32:8D:DB:71:C6:8A:AB:BC:"
    "34\r\n"
    "a=setup:active\r\n"
    "a=mid:3\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:wjm7\r\n"
    "a=ice-pwd:1YVAReTQryq6NG0VmaJebEkK\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "20:B1:E3:F1:EC:3F:2E:C5:E5:CA:9E:C0:C2:0A:44:C3:B6:D1:85:39:51:B5:18:32:8D:DB:71:C6:8A:AB:BC:"
    "34\r\n"
    "a=setup:active\r\n"
    "a=mid:4\r\n"
    "a=inactive\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:kcwF\r\n"
    "a=ice-pwd:ylMcPfQ/E24bcwx/JFjNah7W\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "20:B1:E3:F1:EC:3F:2E:C5:E5:CA:9E:C0:C2:0A:44:C3:B6:D1:85:39:51:B5:18:32:8D:DB:71:C6:8A:AB:BC:"
    "34\r\n"
    "a=setup:active\r\n"
    "a=mid:5\r\n"
    "a=inactive\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n";

static const char chrome_offer[] =
    "v=0\r\n"
    "o=- 9183209940978691776 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1 2 3\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS 4a487f6e-6aed-4bb9-9750-99637401a158\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:1079462702 1 udp 2113937151 281a21c0-c1b0-46f8-815b-469184c91584.local 41906 typ "
    "host generation 0 network-cost 999\r\n"
    "a=candidate:2335279822 1 udp 2113942271 1af00fd5-b6e7-4a68-ac9c-fba46d7bd88e.local 37945 typ "
    "host generation 0 network-cost 999\r\n"
    "a=ice-ufrag:AWZo\r\n"
    "a=ice-pwd:dOJFZ0OA//VGmKNMSSx0Epid\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "AF:AC:EF:C8:01:9E:E5:D0:1C:A2:49:DB:A8:0C:AE:7D:59:79:90:F0:C0:E8:4A:36:1D:E3:7B:45:AE:80:FB:"
    "9B\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendrecv\r\n"
    "a=msid:4a487f6e-6aed-4bb9-9750-99637401a158 907d0f70-c124-431c-8cdb-bc533d1bde3a\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtcp-xr:rcvr-rtt=all\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "a=ssrc:3086296853 cname:YgTrU/CH/WOP7YIV\r\n"
    "a=ssrc:3086296853 msid:4a487f6e-6aed-4bb9-9750-99637401a158 "
    "907d0f70-c124-431c-8cdb-bc533d1bde3a\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 107 108 109 114 115 116 117 39 40 45 46 98 99 "
    "100 101 118 119 120\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:1079462702 1 udp 2113937151 281a21c0-c1b0-46f8-815b-469184c91584.local 49826 typ "
    "host generation 0 network-cost 999\r\n"
    "a=candidate:2335279822 1 udp 2113942271 1af00fd5-b6e7-4a68-ac9c-fba46d7bd88e.local 52001 typ "
    "host generation 0 network-cost 999\r\n"
    "a=ice-ufrag:AWZo\r\n"
    "a=ice-pwd:dOJFZ0OA//VGmKNMSSx0Epid\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "AF:AC:EF:C8:01:9E:E5:D0:1C:A2:49:DB:A8:0C:AE:7D:59:79:90:F0:C0:E8:4A:36:1D:E3:7B:45:AE:80:FB:"
    "9B\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:13 urn:3gpp:video-orientation\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type\r\n"
    "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing\r\n"
    "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
    "a=sendrecv\r\n"
    "a=msid:4a487f6e-6aed-4bb9-9750-99637401a158 2326b426-1e8a-4262-9748-44c161c897cd\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtcp-xr:rcvr-rtt=all\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=rtcp-fb:102 goog-remb\r\n"
    "a=rtcp-fb:102 transport-cc\r\n"
    "a=rtcp-fb:102 ccm fir\r\n"
    "a=rtcp-fb:102 nack\r\n"
    "a=rtcp-fb:102 nack pli\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:103 rtx/90000\r\n"
    "a=fmtp:103 apt=102\r\n"
    "a=rtpmap:104 H264/90000\r\n"
    "a=rtcp-fb:104 goog-remb\r\n"
    "a=rtcp-fb:104 transport-cc\r\n"
    "a=rtcp-fb:104 ccm fir\r\n"
    "a=rtcp-fb:104 nack\r\n"
    "a=rtcp-fb:104 nack pli\r\n"
    "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n"
    "a=rtpmap:107 rtx/90000\r\n"
    "a=fmtp:107 apt=104\r\n"
    "a=rtpmap:108 H264/90000\r\n"
    "a=rtcp-fb:108 goog-remb\r\n"
    "a=rtcp-fb:108 transport-cc\r\n"
    "a=rtcp-fb:108 ccm fir\r\n"
    "a=rtcp-fb:108 nack\r\n"
    "a=rtcp-fb:108 nack pli\r\n"
    "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:109 rtx/90000\r\n"
    "a=fmtp:109 apt=108\r\n"
    "a=rtpmap:114 H264/90000\r\n"
    "a=rtcp-fb:114 goog-remb\r\n"
    "a=rtcp-fb:114 transport-cc\r\n"
    "a=rtcp-fb:114 ccm fir\r\n"
    "a=rtcp-fb:114 nack\r\n"
    "a=rtcp-fb:114 nack pli\r\n"
    "a=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"
    "a=rtpmap:115 rtx/90000\r\n"
    "a=fmtp:115 apt=114\r\n"
    "a=rtpmap:116 H264/90000\r\n"
    "a=rtcp-fb:116 goog-remb\r\n"
    "a=rtcp-fb:116 transport-cc\r\n"
    "a=rtcp-fb:116 ccm fir\r\n"
    "a=rtcp-fb:116 nack\r\n"
    "a=rtcp-fb:116 nack pli\r\n"
    "a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"
    "a=rtpmap:117 rtx/90000\r\n"
    "a=fmtp:117 apt=116\r\n"
    "a=rtpmap:39 H264/90000\r\n"
    "a=rtcp-fb:39 goog-remb\r\n"
    "a=rtcp-fb:39 transport-cc\r\n"
    "a=rtcp-fb:39 ccm fir\r\n"
    "a=rtcp-fb:39 nack\r\n"
    "a=rtcp-fb:39 nack pli\r\n"
    "a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f\r\n"
    "a=rtpmap:40 rtx/90000\r\n"
    "a=fmtp:40 apt=39\r\n"
    "a=rtpmap:45 AV1/90000\r\n"
    "a=rtcp-fb:45 goog-remb\r\n"
    "a=rtcp-fb:45 transport-cc\r\n"
    "a=rtcp-fb:45 ccm fir\r\n"
    "a=rtcp-fb:45 nack\r\n"
    "a=rtcp-fb:45 nack pli\r\n"
    "a=fmtp:45 level-idx=5;profile=0;tier=0\r\n"
    "a=rtpmap:46 rtx/90000\r\n"
    "a=fmtp:46 apt=45\r\n"
    "a=rtpmap:98 VP9/90000\r\n"
    "a=rtcp-fb:98 goog-remb\r\n"
    "a=rtcp-fb:98 transport-cc\r\n"
    "a=rtcp-fb:98 ccm fir\r\n"
    "a=rtcp-fb:98 nack\r\n"
    "a=rtcp-fb:98 nack pli\r\n"
    "a=fmtp:98 profile-id=0\r\n"
    "a=rtpmap:99 rtx/90000\r\n"
    "a=fmtp:99 apt=98\r\n"
    "a=rtpmap:100 VP9/90000\r\n"
    "a=rtcp-fb:100 goog-remb\r\n"
    "a=rtcp-fb:100 transport-cc\r\n"
    "a=rtcp-fb:100 ccm fir\r\n"
    "a=rtcp-fb:100 nack\r\n"
    "a=rtcp-fb:100 nack pli\r\n"
    "a=fmtp:100 profile-id=2\r\n"
    "a=rtpmap:101 rtx/90000\r\n"
    "a=fmtp:101 apt=100\r\n"
    "a=rtpmap:118 red/90000\r\n"
    "a=rtpmap:119 rtx/90000\r\n"
    "a=fmtp:119 apt=118\r\n"
    "a=rtpmap:120 ulpfec/90000\r\n"
    "a=ssrc-group:FID 2150188143 2620084327\r\n"
    "a=ssrc:2150188143 cname:YgTrU/CH/WOP7YIV\r\n"
    "a=ssrc:2150188143 msid:4a487f6e-6aed-4bb9-9750-99637401a158 "
    "2326b426-1e8a-4262-9748-44c161c897cd\r\n"
    "a=ssrc:2620084327 cname:YgTrU/CH/WOP7YIV\r\n"
    "a=ssrc:2620084327 msid:4a487f6e-6aed-4bb9-9750-99637401a158 "
    "2326b426-1e8a-4262-9748-44c161c897cd\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:1079462702 1 udp 2113937151 281a21c0-c1b0-46f8-815b-469184c91584.local 44913 typ "
    "host generation 0 network-cost 999\r\n"
    "a=candidate:2335279822 1 udp 2113942271 1af00fd5-b6e7-4a68-ac9c-fba46d7bd88e.local 48527 typ "
    "host generation 0 network-cost 999\r\n"
    "a=ice-ufrag:AWZo\r\n"
    "a=ice-pwd:dOJFZ0OA//VGmKNMSSx0Epid\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "AF:AC:EF:C8:01:9E:E5:D0:1C:A2:49:DB:A8:0C:AE:7D:59:79:90:F0:C0:E8:4A:36:1D:E3:7B:45:AE:80:FB:"
    "9B\r\n"
    "a=setup:actpass\r\n"
    "a=mid:2\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtcp-xr:rcvr-rtt=all\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 35 36 37 38 102 103 104 107 108 109 114 115 "
    "116 117 39 40 41 42 43 44 45 46 47 48 118 119 120 49\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:1079462702 1 udp 2113937151 281a21c0-c1b0-46f8-815b-469184c91584.local 59212 typ "
    "host generation 0 network-cost 999\r\n"
    "a=candidate:2335279822 1 udp 2113942271 1af00fd5-b6e7-4a68-ac9c-fba46d7bd88e.local 36212 typ "
    "host generation 0 network-cost 999\r\n"
    "a=ice-ufrag:AWZo\r\n"
    "a=ice-pwd:dOJFZ0OA//VGmKNMSSx0Epid\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "AF:AC:EF:C8:01:9E:E5:D0:1C:A2:49:DB:A8:0C:AE:7D:59:79:90:F0:C0:E8:4A:36:1D:E3:7B:45:AE:80:FB:"
    "9B\r\n"
    "a=setup:actpass\r\n"
    "a=mid:3\r\n"
    "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:13 urn:3gpp:video-orientation\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type\r\n"
    "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing\r\n"
    "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtcp-xr:rcvr-rtt=all\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:98 VP9/90000\r\n"
    "a=rtcp-fb:98 goog-remb\r\n"
    "a=rtcp-fb:98 transport-cc\r\n"
    "a=rtcp-fb:98 ccm fir\r\n"
    "a=rtcp-fb:98 nack\r\n"
    "a=rtcp-fb:98 nack pli\r\n"
    "a=fmtp:98 profile-id=0\r\n"
    "a=rtpmap:99 rtx/90000\r\n"
    "a=fmtp:99 apt=98\r\n"
    "a=rtpmap:100 VP9/90000\r\n"
    "a=rtcp-fb:100 goog-remb\r\n"
    "a=rtcp-fb:100 transport-cc\r\n"
    "a=rtcp-fb:100 ccm fir\r\n"
    "a=rtcp-fb:100 nack\r\n"
    "a=rtcp-fb:100 nack pli\r\n"
    "a=fmtp:100 profile-id=2\r\n"
    "a=rtpmap:101 rtx/90000\r\n"
    "a=fmtp:101 apt=100\r\n"
    "a=rtpmap:35 VP9/90000\r\n"
    "a=rtcp-fb:35 goog-remb\r\n"
    "a=rtcp-fb:35 transport-cc\r\n"
    "a=rtcp-fb:35 ccm fir\r\n"
    "a=rtcp-fb:35 nack\r\n"
    "a=rtcp-fb:35 nack pli\r\n"
    "a=fmtp:35 profile-id=1\r\n"
    "a=rtpmap:36 rtx/90000\r\n"
    "a=fmtp:36 apt=35\r\n"
    "a=rtpmap:37 VP9/90000\r\n"
    "a=rtcp-fb:37 goog-remb\r\n"
    "a=rtcp-fb:37 transport-cc\r\n"
    "a=rtcp-fb:37 ccm fir\r\n"
    "a=rtcp-fb:37 nack\r\n"
    "a=rtcp-fb:37 nack pli\r\n"
    "a=fmtp:37 profile-id=3\r\n"
    "a=rtpmap:38 rtx/90000\r\n"
    "a=fmtp:38 apt=37\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=rtcp-fb:102 goog-remb\r\n"
    "a=rtcp-fb:102 transport-cc\r\n"
    "a=rtcp-fb:102 ccm fir\r\n"
    "a=rtcp-fb:102 nack\r\n"
    "a=rtcp-fb:102 nack pli\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:103 rtx/90000\r\n"
    "a=fmtp:103 apt=102\r\n"
    "a=rtpmap:104 H264/90000\r\n"
    "a=rtcp-fb:104 goog-remb\r\n"
    "a=rtcp-fb:104 transport-cc\r\n"
    "a=rtcp-fb:104 ccm fir\r\n"
    "a=rtcp-fb:104 nack\r\n"
    "a=rtcp-fb:104 nack pli\r\n"
    "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n"
    "a=rtpmap:107 rtx/90000\r\n"
    "a=fmtp:107 apt=104\r\n"
    "a=rtpmap:108 H264/90000\r\n"
    "a=rtcp-fb:108 goog-remb\r\n"
    "a=rtcp-fb:108 transport-cc\r\n"
    "a=rtcp-fb:108 ccm fir\r\n"
    "a=rtcp-fb:108 nack\r\n"
    "a=rtcp-fb:108 nack pli\r\n"
    "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:109 rtx/90000\r\n"
    "a=fmtp:109 apt=108\r\n"
    "a=rtpmap:114 H264/90000\r\n"
    "a=rtcp-fb:114 goog-remb\r\n"
    "a=rtcp-fb:114 transport-cc\r\n"
    "a=rtcp-fb:114 ccm fir\r\n"
    "a=rtcp-fb:114 nack\r\n"
    "a=rtcp-fb:114 nack pli\r\n"
    "a=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"
    "a=rtpmap:115 rtx/90000\r\n"
    "a=fmtp:115 apt=114\r\n"
    "a=rtpmap:116 H264/90000\r\n"
    "a=rtcp-fb:116 goog-remb\r\n"
    "a=rtcp-fb:116 transport-cc\r\n"
    "a=rtcp-fb:116 ccm fir\r\n"
    "a=rtcp-fb:116 nack\r\n"
    "a=rtcp-fb:116 nack pli\r\n"
    "a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"
    "a=rtpmap:117 rtx/90000\r\n"
    "a=fmtp:117 apt=116\r\n"
    "a=rtpmap:39 H264/90000\r\n"
    "a=rtcp-fb:39 goog-remb\r\n"
    "a=rtcp-fb:39 transport-cc\r\n"
    "a=rtcp-fb:39 ccm fir\r\n"
    "a=rtcp-fb:39 nack\r\n"
    "a=rtcp-fb:39 nack pli\r\n"
    "a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f\r\n"
    "a=rtpmap:40 rtx/90000\r\n"
    "a=fmtp:40 apt=39\r\n"
    "a=rtpmap:41 H264/90000\r\n"
    "a=rtcp-fb:41 goog-remb\r\n"
    "a=rtcp-fb:41 transport-cc\r\n"
    "a=rtcp-fb:41 ccm fir\r\n"
    "a=rtcp-fb:41 nack\r\n"
    "a=rtcp-fb:41 nack pli\r\n"
    "a=fmtp:41 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001f\r\n"
    "a=rtpmap:42 rtx/90000\r\n"
    "a=fmtp:42 apt=41\r\n"
    "a=rtpmap:43 H264/90000\r\n"
    "a=rtcp-fb:43 goog-remb\r\n"
    "a=rtcp-fb:43 transport-cc\r\n"
    "a=rtcp-fb:43 ccm fir\r\n"
    "a=rtcp-fb:43 nack\r\n"
    "a=rtcp-fb:43 nack pli\r\n"
    "a=fmtp:43 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=f4001f\r\n"
    "a=rtpmap:44 rtx/90000\r\n"
    "a=fmtp:44 apt=43\r\n"
    "a=rtpmap:45 AV1/90000\r\n"
    "a=rtcp-fb:45 goog-remb\r\n"
    "a=rtcp-fb:45 transport-cc\r\n"
    "a=rtcp-fb:45 ccm fir\r\n"
    "a=rtcp-fb:45 nack\r\n"
    "a=rtcp-fb:45 nack pli\r\n"
    "a=fmtp:45 level-idx=5;profile=0;tier=0\r\n"
    "a=rtpmap:46 rtx/90000\r\n"
    "a=fmtp:46 apt=45\r\n"
    "a=rtpmap:47 AV1/90000\r\n"
    "a=rtcp-fb:47 goog-remb\r\n"
    "a=rtcp-fb:47 transport-cc\r\n"
    "a=rtcp-fb:47 ccm fir\r\n"
    "a=rtcp-fb:47 nack\r\n"
    "a=rtcp-fb:47 nack pli\r\n"
    "a=fmtp:47 level-idx=5;profile=1;tier=0\r\n"
    "a=rtpmap:48 rtx/90000\r\n"
    "a=fmtp:48 apt=47\r\n"
    "a=rtpmap:118 red/90000\r\n"
    "a=rtpmap:119 rtx/90000\r\n"
    "a=fmtp:119 apt=118\r\n"
    "a=rtpmap:120 ulpfec/90000\r\n"
    "a=rtpmap:49 flexfec-03/90000\r\n"
    "a=rtcp-fb:49 goog-remb\r\n"
    "a=rtcp-fb:49 transport-cc\r\n"
    "a=fmtp:49 repair-window=10000000\r\n";

static const char writer_offer_chrome_accepted[] =
    "v=0\r\n"
    "o=- 4611686018427387903 2 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1 2 3\r\n"
    "a=ice-lite\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:cbQ7\r\n"
    "a=ice-pwd:Zk2v9cT1pPq8bX3nW6yR0sLd\r\n"
    "a=fingerprint:sha-256 "
    "3B:47:0A:9C:E2:51:6F:08:D4:7A:1E:C3:95:22:B0:6D:8F:31:AC:5E:07:94:E6:2B:D1:48:7F:0C:A3:69:5B:"
    "12\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=candidate:1 1 udp 16777215 127.0.0.1 49170 typ relay\r\n"
    "a=candidate:2 1 udp 2130706431 ::1 40000 typ host\r\n"
    "a=candidate:3 1 tcp 1518280447 127.0.0.1 8443 typ host tcptype passive\r\n"
    "a=end-of-candidates\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:cbQ7\r\n"
    "a=ice-pwd:Zk2v9cT1pPq8bX3nW6yR0sLd\r\n"
    "a=fingerprint:sha-256 "
    "3B:47:0A:9C:E2:51:6F:08:D4:7A:1E:C3:95:22:B0:6D:8F:31:AC:5E:07:94:E6:2B:D1:48:7F:0C:A3:69:5B:"
    "12\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:cbQ7\r\n"
    "a=ice-pwd:Zk2v9cT1pPq8bX3nW6yR0sLd\r\n"
    "a=fingerprint:sha-256 "
    "3B:47:0A:9C:E2:51:6F:08:D4:7A:1E:C3:95:22:B0:6D:8F:31:AC:5E:07:94:E6:2B:D1:48:7F:0C:A3:69:5B:"
    "12\r\n"
    "a=setup:actpass\r\n"
    "a=mid:2\r\n"
    "a=sendonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=msid:leg-1 leg-1-audio\r\n"
    "a=ssrc:1002 cname:callbridged\r\n"
    "a=ssrc:1002 msid:leg-1 leg-1-audio\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:cbQ7\r\n"
    "a=ice-pwd:Zk2v9cT1pPq8bX3nW6yR0sLd\r\n"
    "a=fingerprint:sha-256 "
    "3B:47:0A:9C:E2:51:6F:08:D4:7A:1E:C3:95:22:B0:6D:8F:31:AC:5E:07:94:E6:2B:D1:48:7F:0C:A3:69:5B:"
    "12\r\n"
    "a=setup:actpass\r\n"
    "a=mid:3\r\n"
    "a=sendonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=msid:leg-1 leg-1-video\r\n"
    "a=ssrc:1003 cname:callbridged\r\n"
    "a=ssrc:1003 msid:leg-1 leg-1-video\r\n"
    "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:cbQ7\r\n"
    "a=ice-pwd:Zk2v9cT1pPq8bX3nW6yR0sLd\r\n"
    "a=fingerprint:sha-256 "
    "3B:47:0A:9C:E2:51:6F:08:D4:7A:1E:C3:95:22:B0:6D:8F:31:AC:5E:07:94:E6:2B:D1:48:7F:0C:A3:69:5B:"
    "12\r\n"
    "a=setup:actpass\r\n"
    "a=mid:4\r\n"
    "a=inactive\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:cbQ7\r\n"
    "a=ice-pwd:Zk2v9cT1pPq8bX3nW6yR0sLd\r\n"
    "a=fingerprint:sha-256 "
    "3B:47:0A:9C:E2:51:6F:08:D4:7A:1E:C3:95:22:B0:6D:8F:31:AC:5E:07:94:E6:2B:D1:48:7F:0C:A3:69:5B:"
    "12\r\n"
    "a=setup:actpass\r\n"
    "a=mid:5\r\n"
    "a=inactive\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtcp-fb:96 ccm fir\r\n";

static const char firefox68_audio_offer[] =
    "v=0\r\n"
    "o=mozilla...THIS_IS_SDPARTA-68.0 2393971413639877335 0 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=sendrecv\r\n"
    "a=fingerprint:sha-256 "
    "CC:36:DF:9C:6B:29:47:32:6B:D9:DE:86:A9:81:28:EF:91:92:14:07:A3:C6:BD:DB:AE:8E:B7:4B:D6:91:35:"
    "F8\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=ice-options:trickle\r\n"
    "a=msid-semantic:WMS *\r\n"
    "m=audio 52511 UDP/TLS/RTP/SAVPF 109 9 0 8 101\r\n"
    "c=IN IP4 192.168.1.217\r\n"
    "a=candidate:0 1 UDP 2122187007 192.168.1.217 52511 typ host\r\n"
    "a=candidate:3 1 UDP 2122121471 192.168.124.1 51589 typ host\r\n"
    "a=candidate:6 1 UDP 2122055935 10.88.0.1 45044 typ host\r\n"
    "a=candidate:9 1 UDP 2121990399 192.168.81.6 37749 typ host\r\n"
    "a=candidate:12 1 UDP 2122252543 2406:3003:2005:244:4ac1:faa5:1124:9fe7 50474 typ host\r\n"
    "a=candidate:15 1 TCP 2105458943 192.168.1.217 9 typ host tcptype active\r\n"
    "a=candidate:16 1 TCP 2105393407 192.168.124.1 9 typ host tcptype active\r\n"
    "a=candidate:17 1 TCP 2105327871 10.88.0.1 9 typ host tcptype active\r\n"
    "a=candidate:18 1 TCP 2105262335 192.168.81.6 9 typ host tcptype active\r\n"
    "a=candidate:19 1 TCP 2105524479 2406:3003:2005:244:4ac1:faa5:1124:9fe7 9 typ host tcptype "
    "active\r\n"
    "a=candidate:0 2 UDP 2122187006 192.168.1.217 47797 typ host\r\n"
    "a=candidate:3 2 UDP 2122121470 192.168.124.1 50182 typ host\r\n"
    "a=candidate:6 2 UDP 2122055934 10.88.0.1 41639 typ host\r\n"
    "a=candidate:9 2 UDP 2121990398 192.168.81.6 42373 typ host\r\n"
    "a=candidate:12 2 UDP 2122252542 2406:3003:2005:244:4ac1:faa5:1124:9fe7 58672 typ host\r\n"
    "a=candidate:15 2 TCP 2105458942 192.168.1.217 9 typ host tcptype active\r\n"
    "a=candidate:16 2 TCP 2105393406 192.168.124.1 9 typ host tcptype active\r\n"
    "a=candidate:17 2 TCP 2105327870 10.88.0.1 9 typ host tcptype active\r\n"
    "a=candidate:18 2 TCP 2105262334 192.168.81.6 9 typ host tcptype active\r\n"
    "a=candidate:19 2 TCP 2105524478 2406:3003:2005:244:4ac1:faa5:1124:9fe7 9 typ host tcptype "
    "active\r\n"
    "a=sendrecv\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level\r\n"
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=ice-pwd:f33756ad90c1fd221cd854e713fc8305\r\n"
    "a=ice-ufrag:7848ec25\r\n"
    "a=mid:0\r\n"
    "a=msid:{57d4cf19-0b61-4e63-a6a9-5f04d39c2759} {21ebe68d-5c58-4026-ba14-21ab01d5e29b}\r\n"
    "a=rtcp:47797 IN IP4 192.168.1.217\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:109 opus/48000/2\r\n"
    "a=rtpmap:9 G722/8000/1\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=setup:actpass\r\n"
    "a=ssrc:2570216174 cname:{b84520ee-2443-4f01-a9b1-dcfea71e9c42}\r\n";

static const char firefox61_video_offer[] =
    "v=0\r\n"
    "o=mozilla...THIS_IS_SDPARTA-61.0 8964514366714082732 0 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=sendrecv\r\n"
    "a=fingerprint:sha-256 "
    "AF:9E:29:99:AC:F6:F6:A2:86:A7:2E:A5:83:94:21:7F:F1:39:C5:E3:8F:E4:08:04:D9:D8:70:6D:6C:A2:A1:"
    "D5\r\n"
    "a=group:BUNDLE sdparta_0\r\n"
    "a=ice-options:trickle\r\n"
    "a=msid-semantic:WMS *\r\n"
    "m=video 42738 UDP/TLS/RTP/SAVPF 120 121\r\n"
    "c=IN IP4 192.168.99.7\r\n"
    "a=candidate:0 1 UDP 2122252543 192.168.99.7 42738 typ host\r\n"
    "a=candidate:1 1 TCP 2105524479 192.168.99.7 9 typ host tcptype active\r\n"
    "a=candidate:0 2 UDP 2122252542 192.168.99.7 52914 typ host\r\n"
    "a=candidate:1 2 TCP 2105524478 192.168.99.7 9 typ host tcptype active\r\n"
    "a=sendrecv\r\n"
    "a=end-of-candidates\r\n"
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:5 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=fmtp:120 max-fs=12288;max-fr=60\r\n"
    "a=fmtp:121 max-fs=12288;max-fr=60\r\n"
    "a=ice-pwd:c43b0306087bb4de15f70e4405c4dafe\r\n"
    "a=ice-ufrag:1a0e6b24\r\n"
    "a=mid:sdparta_0\r\n"
    "a=msid:{38c9a1f0-d360-4ad8-afe3-4d7f6d4ae4e1} {d27161f3-ab5d-4aff-9dd8-4a24bfbe56d4}\r\n"
    "a=rtcp:52914 IN IP4 192.168.99.7\r\n"
    "a=rtcp-fb:120 nack\r\n"
    "a=rtcp-fb:120 nack pli\r\n"
    "a=rtcp-fb:120 ccm fir\r\n"
    "a=rtcp-fb:120 goog-remb\r\n"
    "a=rtcp-fb:121 nack\r\n"
    "a=rtcp-fb:121 nack pli\r\n"
    "a=rtcp-fb:121 ccm fir\r\n"
    "a=rtcp-fb:121 goog-remb\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:120 VP8/90000\r\n"
    "a=rtpmap:121 VP9/90000\r\n"
    "a=setup:actpass\r\n"
    "a=ssrc:3408404552 cname:{6f52d07e-17ef-42c5-932b-3b57c64fe049}\r\n";

/* Parses text, failing the test with the parser's sentence on an error. */
static void parse_ok(const char *text, struct sdp_session *s)
{
    char err[160] = "";
    int r = sdp_parse(text, strlen(text), s, err, sizeof(err));

    ck_assert_msg(r == 0, "sdp_parse: %d (%s)", r, err);
}

static void check_ip(const struct sockaddr_storage *ss, int family, const char *ip, unsigned port)
{
    char text[INET6_ADDRSTRLEN] = "";

    ck_assert_int_eq(ss->ss_family, family);
    if (family == AF_INET) {
        const struct sockaddr_in *in = (const void *)ss;

        inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
        ck_assert_uint_eq(ntohs(in->sin_port), port);
    } else {
        const struct sockaddr_in6 *in6 = (const void *)ss;

        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
        ck_assert_uint_eq(ntohs(in6->sin6_port), port);
    }
    ck_assert_str_eq(text, ip);
}

static void check_media(const struct sdp_media *m, enum sdp_kind kind, unsigned port,
                        const char *mid, enum sdp_dir dir)
{
    ck_assert_int_eq(m->kind, kind);
    ck_assert_uint_eq(m->port, port);
    ck_assert_str_eq(m->mid, mid);
    ck_assert_int_eq(m->dir, dir);
    ck_assert(m->rtcp_mux);
    ck_assert_int_eq(m->opus_pt, kind == SDP_AUDIO ? SDP_PT_OPUS : -1);
    ck_assert_int_eq(m->vp8_pt, kind == SDP_VIDEO ? SDP_PT_VP8 : -1);
}

START_TEST(test_chrome_answer_mdns)
{
    static const uint8_t fp_head[4] = {0x69, 0x97, 0xc7, 0x86};
    struct sdp_session s;

    parse_ok(chrome_answer_mdns, &s);
    ck_assert_uint_eq(s.n_media, 6);
    check_media(&s.media[0], SDP_AUDIO, 9, "0", SDP_SENDONLY);
    check_media(&s.media[1], SDP_VIDEO, 9, "1", SDP_SENDONLY);
    check_media(&s.media[2], SDP_AUDIO, 9, "2", SDP_RECVONLY);
    check_media(&s.media[3], SDP_VIDEO, 9, "3", SDP_RECVONLY);
    check_media(&s.media[4], SDP_AUDIO, 0, "4", SDP_INACTIVE);
    check_media(&s.media[5], SDP_VIDEO, 0, "5", SDP_INACTIVE);
    ck_assert_uint_eq(s.media[0].n_ssrc, 1);
    ck_assert_uint_eq(s.media[0].ssrc[0], 1090902261u);
    ck_assert_uint_eq(s.media[1].n_ssrc, 1);
    ck_assert_uint_eq(s.media[1].ssrc[0], 1196314461u);
    ck_assert_uint_eq(s.media[2].n_ssrc, 0);
    /* the first m-line's credentials, not the stopped lines' own */
    ck_assert_str_eq(s.ice_ufrag, "ip9j");
    ck_assert_str_eq(s.ice_pwd, "sWFHzTGMGSUdNUQvAboq2wGz");
    ck_assert(!s.ice_lite);
    ck_assert_str_eq(s.fp_alg, "sha-256");
    ck_assert_uint_eq(s.fp_len, 32);
    ck_assert_mem_eq(s.fp, fp_head, sizeof(fp_head));
    ck_assert_uint_eq(s.fp[31], 0x6c);
    ck_assert_int_eq(s.setup, SDP_SETUP_ACTIVE);
    ck_assert(s.bundle);
    ck_assert_uint_eq(s.n_cand, 2);
    ck_assert_int_eq(s.cand[0].addr.ss_family, AF_UNSPEC);
    ck_assert_str_eq(s.cand[0].foundation, "641208375");
    ck_assert_uint_eq(s.cand[0].priority, 2113937151u);
    ck_assert_uint_eq(s.cand[0].component, 1);
    ck_assert(!s.cand[0].tcp);
    ck_assert_int_eq(s.cand[0].type, SDP_CAND_HOST);
    ck_assert_str_eq(s.cand[1].foundation, "3982414295");
}
END_TEST

START_TEST(test_chrome_answer_ip_candidates)
{
    struct sdp_session s;

    parse_ok(chrome_answer_ip, &s);
    ck_assert_uint_eq(s.n_media, 6);
    check_media(&s.media[0], SDP_AUDIO, 49654, "0", SDP_SENDONLY);
    ck_assert_uint_eq(s.media[1].ssrc[0], 608754646u);
    ck_assert_str_eq(s.ice_ufrag, "PFlX");
    ck_assert_uint_eq(s.n_cand, 4);
    check_ip(&s.cand[0].addr, AF_INET, "192.0.2.2", 49654);
    check_ip(&s.cand[1].addr, AF_INET6, "fd00::2", 34257);
    check_ip(&s.cand[2].addr, AF_INET, "192.0.2.2", 9);
    check_ip(&s.cand[3].addr, AF_INET6, "fd00::2", 9);
    ck_assert(!s.cand[1].tcp);
    ck_assert(s.cand[2].tcp && s.cand[3].tcp);
    ck_assert_int_eq(s.cand[2].tcptype, SDP_TCPTYPE_ACTIVE);
    ck_assert_uint_eq(s.cand[3].priority, 1518285567u);
}
END_TEST

START_TEST(test_chrome_offer_rtx_is_not_kept)
{
    struct sdp_session s;

    parse_ok(chrome_offer, &s);
    ck_assert_uint_eq(s.n_media, 4);
    check_media(&s.media[0], SDP_AUDIO, 9, "0", SDP_SENDRECV);
    check_media(&s.media[1], SDP_VIDEO, 9, "1", SDP_SENDRECV);
    check_media(&s.media[2], SDP_AUDIO, 9, "2", SDP_RECVONLY);
    check_media(&s.media[3], SDP_VIDEO, 9, "3", SDP_RECVONLY);
    ck_assert_uint_eq(s.media[0].n_ssrc, 1);
    ck_assert_uint_eq(s.media[0].ssrc[0], 3086296853u);
    /* a=ssrc-group:FID 2150188143 2620084327: the RTX stream is dropped */
    ck_assert_uint_eq(s.media[1].n_ssrc, 1);
    ck_assert_uint_eq(s.media[1].ssrc[0], 2150188143u);
    ck_assert_int_eq(s.setup, SDP_SETUP_ACTPASS);
    ck_assert_str_eq(s.ice_ufrag, "AWZo");
    ck_assert_uint_eq(s.n_cand, 8); /* two per m-line, all mDNS */
    for (size_t i = 0; i < s.n_cand; i++)
        ck_assert_int_eq(s.cand[i].addr.ss_family, AF_UNSPEC);
}
END_TEST

START_TEST(test_firefox_offers)
{
    struct sdp_session s;

    parse_ok(firefox68_audio_offer, &s);
    ck_assert_uint_eq(s.n_media, 1);
    ck_assert_int_eq(s.media[0].kind, SDP_AUDIO);
    ck_assert_uint_eq(s.media[0].port, 52511);
    ck_assert_int_eq(s.media[0].opus_pt, 109); /* not Chrome's 111 */
    ck_assert_int_eq(s.media[0].vp8_pt, -1);
    ck_assert_uint_eq(s.media[0].ssrc[0], 2570216174u);
    ck_assert_str_eq(s.ice_ufrag, "7848ec25"); /* media level, after ice-pwd */
    ck_assert_str_eq(s.ice_pwd, "f33756ad90c1fd221cd854e713fc8305");
    ck_assert_uint_eq(s.fp[0], 0xcc);           /* session level */
    ck_assert_uint_eq(s.n_cand, SDP_MAX_CANDS); /* 20 written, the first 16 kept */
    check_ip(&s.cand[4].addr, AF_INET6, "2406:3003:2005:244:4ac1:faa5:1124:9fe7", 50474);
    ck_assert(s.cand[5].tcp);
    ck_assert_uint_eq(s.cand[10].component, 2);
    ck_assert_str_eq(s.cand[10].foundation, "0");

    parse_ok(firefox61_video_offer, &s);
    ck_assert_uint_eq(s.n_media, 1);
    ck_assert_str_eq(s.media[0].mid, "sdparta_0");
    ck_assert_int_eq(s.media[0].vp8_pt, 120);
    ck_assert_int_eq(s.media[0].dir, SDP_SENDRECV);
    ck_assert_uint_eq(s.media[0].ssrc[0], 3408404552u);
    ck_assert_uint_eq(s.n_cand, 4);
    ck_assert_int_eq(s.setup, SDP_SETUP_ACTPASS);
}
END_TEST

/* Chrome's LF-only, Firefox's FID after its a=ssrc lines, a session-level direction as the
 * default, codec names in any case, and attributes that are not used. */
START_TEST(test_variants_and_unknown_attributes)
{
    static const char text[] =
        "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\na=recvonly\n"
        "a=x-unknown:anything at all\nm=video 9 UDP/TLS/RTP/SAVPF 98 99\n"
        "a=rtpmap:98 vp8/90000\na=rtpmap:99 rtx/90000\na=ssrc:5 cname:x\n"
        "a=ssrc:6 cname:x\na=ssrc-group:FID 5 6\na=ssrc:7 cname:y\n"
        "a=mid:v\nm=audio 9 UDP/TLS/RTP/SAVPF 101\na=rtpmap:101 OPUS/48000/2\n"
        "a=sendonly\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\n"
        "a=sctp-port:5000";
    struct sdp_session s;

    parse_ok(text, &s);
    ck_assert_uint_eq(s.n_media, 3);
    ck_assert_int_eq(s.media[0].vp8_pt, 98);
    ck_assert_int_eq(s.media[0].dir, SDP_RECVONLY);
    ck_assert_uint_eq(s.media[0].n_ssrc, 2);
    ck_assert_uint_eq(s.media[0].ssrc[0], 5);
    ck_assert_uint_eq(s.media[0].ssrc[1], 7);
    ck_assert_int_eq(s.media[1].opus_pt, 101);
    ck_assert_int_eq(s.media[1].dir, SDP_SENDONLY);
    ck_assert(!s.media[1].rtcp_mux);
    ck_assert_int_eq(s.media[2].kind, SDP_APPLICATION);
    ck_assert_str_eq(s.fp_alg, "");
    ck_assert_int_eq(s.setup, SDP_SETUP_NONE);
    ck_assert(!s.bundle);
}
END_TEST

struct refusal {
    const char *text;
    int r;
    const char *err; /* the start of the sentence */
};

/* Every refusal the contract names, each on the line it names. */
static const struct refusal refusals[] = {
    {"", -EINVAL, "line 1: "},
    {"o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\n", -EINVAL, "line 1: "},
    {"v=1\r\n", -EINVAL, "line 1: "},
    {"v=0\r\ns=-\r\nv=0\r\n", -EINVAL, "line 3: "},
    {"v=0\r\nhello\r\n", -EINVAL, "line 2: not \"<letter>=\""},
    {"v=0\r\nA=x\r\n", -EINVAL, "line 2: not"},
    {"v=0\r\n=x\r\n", -EINVAL, "line 2: not"},
    {"v=0\r\ns=-\r\n\r\nt=0 0\r\n", -EINVAL, "line 3: not"},
    {"v=0\r\ns=a\tb\r\n", -EINVAL, "line 2: a byte that is not printable"},
    {"v=0\r\ns=a\rb\r\n", -EINVAL, "line 2: a byte that is not printable"},
    {"v=0\r\ns=caf\xc3\xa9\r\n", -EINVAL, "line 2: a byte that is not printable"},
    {"v=0\r\ns=\x7f\r\n", -EINVAL, "line 2: a byte"},
    {"v=0\r\nm=audio 65536 UDP/TLS/RTP/SAVPF 111\r\n", -EINVAL, "line 2: m=: a bad port"},
    {"v=0\r\nm=audio -9 UDP/TLS/RTP/SAVPF 111\r\n", -EINVAL, "line 2: m=: a bad port"},
    {"v=0\r\nm=audio 9/2 UDP/TLS/RTP/SAVPF 111\r\n", -EINVAL, "line 2: m=: a bad port"},
    {"v=0\r\nm=audio 99999999999 UDP/TLS/RTP/SAVPF 111\r\n", -EINVAL, "line 2: m=: a bad port"},
    {"v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPFF 111\r\n", -EINVAL, "line 2: m=: an unknown proto"},
    {"v=0\r\nm=audio 9 udp/tls/rtp/savpf 111\r\n", -EINVAL, "line 2: m=: an unknown proto"},
    {"v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF\r\n", -EINVAL, "line 2: m=: not"},
    {"v=0\r\na=fingerprint:sha-256 AB:CD\r\n", -EINVAL, "line 2: a=fingerprint: not hex pairs"},
    {"v=0\r\na=fingerprint:sha-1 "
     "G9:4A:09:1E:0E:33:32:85:51:03:49:95:54:0B:41:09:A2:10:60:CC\r\n",
     -EINVAL, "line 2: a=fingerprint: not hex pairs"},
    {"v=0\r\na=fingerprint:sha-1 "
     "394A:091E:0E33:3285:5103:4995:540B:4109:A210:60CC:39:8F\r\n",
     -EINVAL, "line 2: a=fingerprint: not hex pairs"},
    {"v=0\r\na=fingerprint:sha-256 "
     "39:4A:09:1E:0E:33:32:85:51:03:49:95:54:0B:41:09:A2:10:60:CC\r\n",
     -EINVAL, "line 2: a=fingerprint: not hex pairs"},
    {"v=0\r\na=fingerprint:sha-3 AB:CD\r\n", -EINVAL, "line 2: a=fingerprint: an unknown hash"},
    {"v=0\r\na=fingerprint:sha-256\r\n", -EINVAL, "line 2: a=fingerprint: not"},
    {"v=0\r\na=ice-ufrag:ab-cd\r\n", -EINVAL, "line 2: a=ice-ufrag: a character outside"},
    {"v=0\r\na=ice-pwd:abc def ghi\r\n", -EINVAL, "line 2: a=ice-pwd: a character outside"},
    {"v=0\r\na=ice-pwd:\r\n", -EINVAL, "line 2: a=ice-pwd: empty or over 256"},
    {"v=0\r\na=setup:holdconn\r\n", -EINVAL, "line 2: a=setup: not actpass"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:a b\r\n", -EINVAL, "line 3: a=mid: not a token"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n", -EINVAL,
     "line 5: a=mid: the same as an earlier"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=mid:1\r\n", -EINVAL,
     "line 4: a=mid: a second one"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:128 opus/48000/2\r\n", -EINVAL, "line 3: a=rtpmap"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:111 opus\r\n", -EINVAL, "line 3: a=rtpmap"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=ssrc:4294967296 cname:x\r\n", -EINVAL, "line 3: a=ssrc:"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=ssrc-group:FID 1 x\r\n", -EINVAL, "line 3: a=ssrc-group:"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=candidate:1 1 udp 1 192.0.2.1 99999 typ host\r\n", -EINVAL,
     "line 3: a bad component, priority or port"},
    {"v=0\r\nm=audio 9 RTP/AVP 0\r\na=candidate:1 1 tcp 1 192.0.2.1 9 typ host\r\n", -EINVAL,
     "line 3: TCP without a tcptype"},
};

START_TEST(test_refusals)
{
    const struct refusal *t = &refusals[_i];
    struct sdp_session s, before;
    char err[160] = "";
    int r;

    memset(&s, 0xa5, sizeof(s));
    memcpy(&before, &s, sizeof(s));
    r = sdp_parse(t->text, strlen(t->text), &s, err, sizeof(err));
    ck_assert_msg(r == t->r, "case %d: %d, not %d (%s)", _i, r, t->r, err);
    ck_assert_msg(strncmp(err, t->err, strlen(t->err)) == 0, "case %d: \"%s\"", _i, err);
    ck_assert_msg(memcmp(&s, &before, sizeof(s)) == 0, "case %d: ret written on failure", _i);
}
END_TEST

/* NUL is a byte like any other: the length, not a terminator, ends the description. */
START_TEST(test_nul_byte_refused)
{
    static const char text[] = "v=0\r\ns=a\0b\r\n";
    struct sdp_session s;
    char err[160] = "";

    ck_assert_int_eq(sdp_parse(text, sizeof(text) - 1, &s, err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "line 2: a byte that is not printable ASCII");
}
END_TEST

/* 256 ice-chars are taken, 257 refused; the refusal never quotes the password. */
START_TEST(test_ice_credential_length)
{
    static char text[1024];
    char pwd[258], err[160] = "";
    struct sdp_session s;

    memset(pwd, 'P', 256);
    pwd[256] = '\0';
    snprintf(text, sizeof(text), "v=0\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", pwd, pwd);
    parse_ok(text, &s);
    ck_assert_uint_eq(strlen(s.ice_ufrag), 256);
    ck_assert_uint_eq(strlen(s.ice_pwd), 256);
    strcpy(pwd + 256, "Q");
    snprintf(text, sizeof(text), "v=0\r\na=ice-pwd:%s\r\n", pwd);
    ck_assert_int_eq(sdp_parse(text, strlen(text), &s, err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "line 2: a=ice-pwd: empty or over 256 characters");
    snprintf(text, sizeof(text), "v=0\r\na=ice-ufrag:%s\r\n", pwd);
    ck_assert_int_eq(sdp_parse(text, strlen(text), &s, err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "line 2: a=ice-ufrag: empty or over 256 characters");
    /* a tiny err buffer is cut, never overrun */
    ck_assert_int_eq(sdp_parse(text, strlen(text), &s, err, 5), -EINVAL);
    ck_assert_str_eq(err, "line");
    ck_assert_int_eq(sdp_parse(text, strlen(text), &s, NULL, 0), -EINVAL);
}
END_TEST

/* SDP_MAX_MEDIA m-lines are taken, one more is -E2BIG; SDP_MAX_LEN bytes are read, one more
 * is -E2BIG before any. */
START_TEST(test_limits)
{
    static char text[SDP_MAX_LEN + 2];
    static const char mline[] = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
    struct sdp_session s;
    char err[160] = "";
    size_t n = 0;

    n += (size_t)snprintf(text, sizeof(text), "v=0\r\n");
    for (int i = 0; i < SDP_MAX_MEDIA; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", mline);
    parse_ok(text, &s);
    ck_assert_uint_eq(s.n_media, SDP_MAX_MEDIA);
    snprintf(text + n, sizeof(text) - n, "%s", mline);
    ck_assert_int_eq(sdp_parse(text, strlen(text), &s, err, sizeof(err)), -E2BIG);
    ck_assert_str_eq(err, "line 66: more than 64 m-lines");

    n = (size_t)snprintf(text, sizeof(text), "v=0\r\na=x-pad:");
    memset(text + n, 'x', SDP_MAX_LEN - n);
    text[SDP_MAX_LEN] = '\0';
    ck_assert_int_eq(sdp_parse(text, SDP_MAX_LEN, &s, err, sizeof(err)), 0);
    text[SDP_MAX_LEN] = 'x';
    ck_assert_int_eq(sdp_parse(text, SDP_MAX_LEN + 1, &s, err, sizeof(err)), -E2BIG);
    text[0] = 'X'; /* refused by length alone: not even the first line is read */
    ck_assert_int_eq(sdp_parse(text, SDP_MAX_LEN + 1, &s, err, sizeof(err)), -E2BIG);
}
END_TEST

/* Fingerprints of each hash's length, in either case; only the first is kept. */
START_TEST(test_fingerprint_lengths)
{
    static const char text[] =
        "v=0\r\na=fingerprint:SHA-1 39:4a:09:1E:0E:33:32:85:51:03:49:95:54:0B:41:09:A2:10:60:cc\r\n"
        "a=fingerprint:sha-512 "
        "00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:"
        "1D:1E:1F:20:21:22:23:24:25:26:27:28:29:2A:2B:2C:2D:2E:2F:30:31:32:33:34:35:36:37:38:39:"
        "3A:3B:3C:3D:3E:3F\r\n";
    struct sdp_session s;

    parse_ok(text, &s);
    ck_assert_str_eq(s.fp_alg, "sha-1");
    ck_assert_uint_eq(s.fp_len, 20);
    ck_assert_uint_eq(s.fp[1], 0x4a);
    ck_assert_uint_eq(s.fp[19], 0xcc);
}
END_TEST

/* ---- candidates ---------------------------------------------------------------------------- */

START_TEST(test_trickled_candidates)
{
    /* Chrome 156's onicecandidate strings, then RFC 8839 §5.1's srflx example shape */
    static const char v4[] = "candidate:2723009690 1 udp 2122194687 192.0.2.2 49654 typ host "
                             "generation 0 ufrag PFlX network-id 1";
    static const char v6[] = "a=candidate:1764431226 1 udp 2122265343 fd00::2 34257 typ host "
                             "generation 0 ufrag PFlX network-id 2\r\n";
    static const char tcp[] = "candidate:2541863406 1 tcp 1518285567 fd00::2 9 typ host tcptype "
                              "active generation 0 ufrag PFlX network-id 2";
    static const char mdns[] = "candidate:1718743795 1 udp 2113937151 "
                               "ac42467b-281a-4c55-9d8a-9bcd943d23b3.local 52931 typ host "
                               "generation 0 ufrag 3hp9 network-cost 999";
    static const char srflx[] =
        "candidate:2 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 10.0.1.1 rport 8998";
    struct sdp_candidate c;
    char err[160];

    ck_assert_int_eq(sdp_parse_candidate(v4, strlen(v4), &c, err, sizeof(err)), 0);
    check_ip(&c.addr, AF_INET, "192.0.2.2", 49654);
    ck_assert_str_eq(c.foundation, "2723009690");
    ck_assert_uint_eq(c.priority, 2122194687u);
    ck_assert_int_eq(sdp_parse_candidate(v6, strlen(v6), &c, err, sizeof(err)), 0);
    check_ip(&c.addr, AF_INET6, "fd00::2", 34257);
    ck_assert_int_eq(sdp_parse_candidate(tcp, strlen(tcp), &c, err, sizeof(err)), 0);
    ck_assert(c.tcp);
    ck_assert_int_eq(c.tcptype, SDP_TCPTYPE_ACTIVE);
    check_ip(&c.addr, AF_INET6, "fd00::2", 9);
    ck_assert_int_eq(sdp_parse_candidate(mdns, strlen(mdns), &c, err, sizeof(err)), 0);
    ck_assert_int_eq(c.addr.ss_family, AF_UNSPEC);
    ck_assert_int_eq(sdp_parse_candidate(srflx, strlen(srflx), &c, err, sizeof(err)), 0);
    ck_assert_int_eq(c.type, SDP_CAND_SRFLX);
    ck_assert(!c.tcp);
}
END_TEST

static const struct refusal bad_candidates[] = {
    {"", -EINVAL, "candidate: not a"},
    {"a=candidate:", -EINVAL, "candidate: the foundation"},
    {"candidate:1 1 udp 1 192.0.2.1 1 typ", -EINVAL, "candidate: fewer fields"},
    {"candidate:1 1 udp 1 192.0.2.1 1 type host", -EINVAL, "candidate: fewer fields"},
    {"candidate:123456789012345678901234567890123 1 udp 1 192.0.2.1 1 typ host", -EINVAL,
     "candidate: the foundation"},
    {"candidate:a-b 1 udp 1 192.0.2.1 1 typ host", -EINVAL, "candidate: the foundation"},
    {"candidate:1 0 udp 1 192.0.2.1 1 typ host", -EINVAL, "candidate: a bad component"},
    {"candidate:1 257 udp 1 192.0.2.1 1 typ host", -EINVAL, "candidate: a bad component"},
    {"candidate:1 1 udp 4294967296 192.0.2.1 1 typ host", -EINVAL, "candidate: a bad comp"},
    {"candidate:1 1 udp 1 192.0.2.1 65536 typ host", -EINVAL, "candidate: a bad component"},
    {"candidate:1 1 udp 1 256.0.2.1 1 typ host", -EINVAL, "candidate: not an IP address"},
    {"candidate:1 1 udp 1 192.0.2 1 typ host", -EINVAL, "candidate: not an IP address"},
    {"candidate:1 1 udp 1 fe80::1%eth0 1 typ host", -EINVAL, "candidate: not an IP address"},
    {"candidate:1 1 udp 1 a_b.local 1 typ host", -EINVAL, "candidate: not an address"},
    {"candidate:1 1 udp 1 192.0.2.1 1 typ host generation", -EINVAL,
     "candidate: an extension without"},
    {"candidate:1 1 udp 1 192.0.2.1 1 typ relay raddr 192.0.2.9 rport x", -EINVAL,
     "candidate: a bad rport"},
    {"candidate:1 1 tcp 1 192.0.2.1 9 typ host tcptype sideways", -EINVAL,
     "candidate: an unknown tcptype"},
    {"candidate:1 1 udp 1 192.0.2.1 1 typ host\x01", -EINVAL, "candidate: not a"},
    {"candidate:1 1 sctp 1 192.0.2.1 1 typ host", -EPROTONOSUPPORT, "candidate: an unknown"},
    {"candidate:1 1 udp 1 192.0.2.1 1 typ bogus", -EPROTONOSUPPORT, "candidate: an unknown"},
    {"candidate:1 1 udp 1 turn.example.com 1 typ host", -EPROTONOSUPPORT, "candidate: an unknown"},
    /* malformed wins over unusable */
    {"candidate:1 1 sctp 1 192.0.2.1 1 typ host generation", -EINVAL, "candidate: an ext"},
};

START_TEST(test_candidate_refusals)
{
    const struct refusal *t = &bad_candidates[_i];
    struct sdp_candidate c, before;
    char err[160] = "";
    int r;

    memset(&c, 0x5a, sizeof(c));
    memcpy(&before, &c, sizeof(c));
    r = sdp_parse_candidate(t->text, strlen(t->text), &c, err, sizeof(err));
    ck_assert_msg(r == t->r, "case %d: %d, not %d (%s)", _i, r, t->r, err);
    ck_assert_msg(strncmp(err, t->err, strlen(t->err)) == 0, "case %d: \"%s\"", _i, err);
    ck_assert(memcmp(&c, &before, sizeof(c)) == 0);
}
END_TEST

/* An unusable candidate in a description is skipped, not refused; a long line is refused. */
START_TEST(test_candidate_skip_and_cap)
{
    static const char text[] = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
                               "a=candidate:1 1 sctp 1 192.0.2.1 1 typ host\r\n"
                               "a=candidate:2 1 udp 1 relay.example.com 3478 typ relay\r\n"
                               "a=candidate:3 1 udp 7 192.0.2.1 1 typ host\r\n";
    static char line[1100];
    struct sdp_session s;
    struct sdp_candidate c;
    char err[160];

    parse_ok(text, &s);
    ck_assert_uint_eq(s.n_cand, 1);
    ck_assert_uint_eq(s.cand[0].priority, 7);
    memset(line, 'a', sizeof(line));
    memcpy(line, "candidate:", 10);
    ck_assert_int_eq(sdp_parse_candidate(line, sizeof(line), &c, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(sdp_parse_candidate(NULL, 0, &c, err, sizeof(err)), -EINVAL);
}
END_TEST

/* ---- the writer ---------------------------------------------------------------------------- */

static void set_v4(struct sockaddr_storage *ss, const char *ip, unsigned port)
{
    struct sockaddr_in *in = (struct sockaddr_in *)ss;

    memset(ss, 0, sizeof(*ss));
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    ck_assert_int_eq(inet_pton(AF_INET, ip, &in->sin_addr), 1);
}

static void set_v6(struct sockaddr_storage *ss, const char *ip, unsigned port)
{
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    ck_assert_int_eq(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
}

static void set_cand(struct sdp_candidate *c, const char *f, uint32_t prio, enum sdp_cand_type t)
{
    snprintf(c->foundation, sizeof(c->foundation), "%s", f);
    c->component = 1;
    c->priority = prio;
    c->type = t;
}

/* The offer whose output Chrome 156 accepted (writer_offer_chrome_accepted): the guest's own
 * audio and video (recvonly), one participant's forwarded streams (sendonly), one who left. */
static void sample_offer(struct sdp_offer *o)
{
    memset(o, 0, sizeof(*o));
    o->session_id = 4611686018427387903ull;
    o->version = 2;
    strcpy(o->ice_ufrag, "cbQ7");
    strcpy(o->ice_pwd, "Zk2v9cT1pPq8bX3nW6yR0sLd");
    strcpy(o->fingerprint, "3B:47:0A:9C:E2:51:6F:08:D4:7A:1E:C3:95:22:B0:6D:8F:31:AC:5E:07:94:"
                           "E6:2B:D1:48:7F:0C:A3:69:5B:12");
    o->ice_lite = true;
    set_cand(&o->cand[0], "1", 16777215, SDP_CAND_RELAY);
    set_v4(&o->cand[0].addr, "127.0.0.1", 49170);
    set_cand(&o->cand[1], "2", 2130706431, SDP_CAND_HOST);
    set_v6(&o->cand[1].addr, "::1", 40000);
    set_cand(&o->cand[2], "3", 1518280447, SDP_CAND_HOST);
    set_v4(&o->cand[2].addr, "127.0.0.1", 8443);
    o->cand[2].tcp = true;
    o->cand[2].tcptype = SDP_TCPTYPE_PASSIVE;
    o->n_cand = 3;
    for (int i = 0; i < 6; i++) {
        struct sdp_offer_media *m = &o->media[i];

        m->kind = i % 2 ? SDP_VIDEO : SDP_AUDIO;
        snprintf(m->mid, sizeof(m->mid), "%d", i);
        m->dir = i < 2 ? SDP_RECVONLY : SDP_SENDONLY;
        if (i >= 2) {
            m->ssrc = (uint32_t)(1000 + i);
            snprintf(m->msid, sizeof(m->msid), "leg-%d", i / 2);
            snprintf(m->track, sizeof(m->track), "leg-%d-%s", i / 2, i % 2 ? "video" : "audio");
            strcpy(m->cname, "callbridged");
        }
        m->stopped = i >= 4;
    }
    o->n_media = 6;
}

START_TEST(test_writer_output_chrome_accepted)
{
    static struct sdp_offer o;
    static char buf[SDP_MAX_LEN];
    long n;

    sample_offer(&o);
    n = sdp_write_offer(&o, buf, sizeof(buf));
    ck_assert_int_eq(n, (long)strlen(writer_offer_chrome_accepted));
    ck_assert_str_eq(buf, writer_offer_chrome_accepted);
}
END_TEST

START_TEST(test_writer_round_trip)
{
    static struct sdp_offer o;
    static char buf[SDP_MAX_LEN];
    struct sdp_session s;
    long n;

    sample_offer(&o);
    n = sdp_write_offer(&o, buf, sizeof(buf));
    ck_assert_int_gt(n, 0);
    parse_ok(buf, &s);
    ck_assert_uint_eq(s.n_media, o.n_media);
    for (size_t i = 0; i < o.n_media; i++) {
        const struct sdp_offer_media *om = &o.media[i];

        check_media(&s.media[i], om->kind, om->stopped ? 0 : 9, om->mid,
                    om->stopped ? SDP_INACTIVE : om->dir);
        ck_assert_uint_eq(s.media[i].n_ssrc, om->ssrc && !om->stopped ? 1 : 0);
        if (om->ssrc && !om->stopped)
            ck_assert_uint_eq(s.media[i].ssrc[0], om->ssrc);
    }
    ck_assert_str_eq(s.ice_ufrag, o.ice_ufrag);
    ck_assert_str_eq(s.ice_pwd, o.ice_pwd);
    ck_assert(s.ice_lite && s.bundle);
    ck_assert_int_eq(s.setup, SDP_SETUP_ACTPASS);
    ck_assert_uint_eq(s.fp_len, 32);
    ck_assert_uint_eq(s.fp[0], 0x3b);
    ck_assert_uint_eq(s.fp[31], 0x12);
    ck_assert_uint_eq(s.n_cand, o.n_cand);
    for (size_t i = 0; i < o.n_cand; i++)
        ck_assert_mem_eq(&s.cand[i], &o.cand[i], sizeof(s.cand[i]));
    ck_assert_ptr_nonnull(strstr(buf, "a=group:BUNDLE 0 1 2 3\r\n")); /* not the stopped 4, 5 */
}
END_TEST

/* Every capacity short of the whole offer and its NUL is -ENOSPC; the exact one is not. */
START_TEST(test_writer_enospc_at_every_cap)
{
    static struct sdp_offer o;
    static char full[SDP_MAX_LEN], buf[SDP_MAX_LEN];
    char cand[128];
    long n, k;

    sample_offer(&o);
    n = sdp_write_offer(&o, full, sizeof(full));
    ck_assert_int_gt(n, 0);
    for (long cap = 0; cap <= n; cap++)
        ck_assert_int_eq(sdp_write_offer(&o, cap ? buf : NULL, (size_t)cap), -ENOSPC);
    ck_assert_int_eq(sdp_write_offer(&o, buf, (size_t)n + 1), n);
    ck_assert_str_eq(buf, full);

    k = sdp_write_candidate(&o.cand[2], cand, sizeof(cand));
    ck_assert_str_eq(cand, "candidate:3 1 tcp 1518280447 127.0.0.1 8443 typ host tcptype passive");
    for (long cap = 0; cap <= k; cap++)
        ck_assert_int_eq(sdp_write_candidate(&o.cand[2], cand, (size_t)cap), -ENOSPC);
}
END_TEST

/* What the writer writes, the candidate parser reads back the same. */
START_TEST(test_write_candidate_round_trip)
{
    static struct sdp_offer o;
    struct sdp_candidate c;
    char line[128], err[160];

    sample_offer(&o);
    for (size_t i = 0; i < o.n_cand; i++) {
        long n = sdp_write_candidate(&o.cand[i], line, sizeof(line));

        ck_assert_int_gt(n, 0);
        ck_assert_int_eq(sdp_parse_candidate(line, (size_t)n, &c, err, sizeof(err)), 0);
        ck_assert_mem_eq(&c, &o.cand[i], sizeof(c));
    }
    c = o.cand[0];
    c.addr.ss_family = AF_UNSPEC; /* an mDNS candidate has no address to write */
    ck_assert_int_eq(sdp_write_candidate(&c, line, sizeof(line)), -EINVAL);
}
END_TEST

/* Fields that would break a line or that a browser refuses are -EINVAL before anything. */
START_TEST(test_writer_refuses_bad_fields)
{
    static struct sdp_offer o;
    static char buf[SDP_MAX_LEN];

    sample_offer(&o);
    o.n_media = 0;
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    o.n_media = SDP_MAX_MEDIA + 1;
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    strcpy(o.ice_ufrag, "ab\r\na=x");
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    o.ice_pwd[0] = '\0';
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    o.fingerprint[2] = '-';
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    strcpy(o.media[3].mid, "1"); /* a second mid 1 */
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    strcpy(o.media[2].cname, "a b");
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    o.media[2].track[0] = '\0'; /* an msid without its track */
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    memset(o.media[0].mid, '7', sizeof(o.media[0].mid)); /* no NUL in the field */
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    o.media[1].kind = SDP_APPLICATION;
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    o.cand[1].addr.ss_family = AF_UNSPEC;
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
    sample_offer(&o);
    o.n_cand = SDP_MAX_CANDS + 1;
    ck_assert_int_eq(sdp_write_offer(&o, buf, sizeof(buf)), -EINVAL);
}
END_TEST

Suite *webrtc_sdp_suite(void)
{
    Suite *s = suite_create("webrtc_sdp");
    TCase *tc = tcase_create("parse");
    TCase *tw = tcase_create("write");

    tcase_add_test(tc, test_chrome_answer_mdns);
    tcase_add_test(tc, test_chrome_answer_ip_candidates);
    tcase_add_test(tc, test_chrome_offer_rtx_is_not_kept);
    tcase_add_test(tc, test_firefox_offers);
    tcase_add_test(tc, test_variants_and_unknown_attributes);
    tcase_add_loop_test(tc, test_refusals, 0, (int)(sizeof(refusals) / sizeof(refusals[0])));
    tcase_add_test(tc, test_nul_byte_refused);
    tcase_add_test(tc, test_ice_credential_length);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_fingerprint_lengths);
    tcase_add_test(tc, test_trickled_candidates);
    tcase_add_loop_test(tc, test_candidate_refusals, 0,
                        (int)(sizeof(bad_candidates) / sizeof(bad_candidates[0])));
    tcase_add_test(tc, test_candidate_skip_and_cap);
    suite_add_tcase(s, tc);
    tcase_add_test(tw, test_writer_output_chrome_accepted);
    tcase_add_test(tw, test_writer_round_trip);
    tcase_add_test(tw, test_writer_enospc_at_every_cap);
    tcase_add_test(tw, test_write_candidate_round_trip);
    tcase_add_test(tw, test_writer_refuses_bad_fields);
    suite_add_tcase(s, tw);
    return s;
}
