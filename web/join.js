/* The guest side of callbridge's web bridge. It reads the join link (/meeting/<callId>?secret=..
 * &name=..) or the form, joins through POST /meeting/api/join, then follows the server's events
 * (GET /meeting/api/events, a long poll): callbridged is always the offerer, so each "offer" is
 * answered here, with the guest's camera and microphone on the m-lines the server receives on
 * (a=recvonly in the offer), and every other participant's media arrives on the m-lines it sends
 * on, grouped by a stream whose id is that participant's leg id; the "roster" event names them.
 * window.cb exposes the state, the media statistics and the join time to tests, and cb.marks the
 * steps of the first join (scripts/bench/join.py breaks a join down with them); document.title
 * follows the state.
 * Nothing a peer sends is put into the page as markup: names go in through textContent only. */
'use strict';

(function () {
    const MAX_RECONNECTS = 3; /* in a row: a join that connects starts the count again */
    const RECONNECT_DELAY_MS = 1000;
    const POLL_TIMEOUT_MS = 30000;
    const STATE_TEXT = {
        idle: 'Enter the meeting details to join.',
        joining: 'Joining…',
        connected: 'Connected',
        left: 'You left the meeting.',
        removed: 'You were removed by the administrator.',
        lost: 'Connection lost',
        failed: 'Could not join',
    };

    /* One join attempt's state; replaced on each (re)join so a stale loop notices and stops. */
    let session = null;
    let localStream = null;
    let credentials = null;
    let reconnects = 0;
    let fromLink = false; /* joined straight from a link: no form to fall back to */
    /* The link's or the form's credentials, kept only until a join answers a rejoin credential
     * (docs/guests.md "Joining again"): from then on 'credentials' is {callId, rejoin}, in this
     * page's memory only, and the passcode is forgotten. A link's secret is in its address
     * anyway: a refused rejoin falls back to it. */
    let linkCredentials = null;
    /* The other call bridges of the cluster (the join's answer): where the rejoin credential
     * goes when this page's own call bridge stops answering (its node died). */
    let otherNodes = [];
    let busyRejoins = 0; /* 503s in a row to a rejoin: the call's node is not answering yet */
    const MAX_BUSY_REJOINS = 20;
    const names = new Map(); /* leg id -> display name, from the roster */
    /* leg id -> {audio, video}: what the host withholds of that participant (PUT /callLegs
     * rxAudioMute, rxVideoMute): its tile says so, since a muted stream just stops */
    const muted = new Map();
    const waiting = new Set(); /* legs in the lobby (roster "lobby"): no media, no tile */
    /* This guest's own leg, from the "self" event: in the lobby (its call leg profile's
     * needsActivation, until an activator is in and the call unlocked), what it may mute of
     * itself (muteSelfAllowed, videoMuteSelfAllowed, the call's allowAllMuteSelf), whether the
     * others' names are shown (participantLabels), and what the others get of it. The mute
     * buttons exist only while allowed; they ask callbridged, which withholds the media. */
    const me = {lobby: false, muteSelfAllowed: false, videoMuteSelfAllowed: false,
        participantLabels: true, audioMuted: false, videoMuted: false};
    let messageTimer = null;
    const tiles = new Map(); /* leg id -> its <li> */
    const trackLegs = new Map(); /* remote track id -> leg id */

    const $ = (id) => document.getElementById(id);

    const cb = {
        state: 'idle',
        endReason: null,
        leg: null,
        firstFrameMs: null, /* performance.now() of the first remote video frame shown: join time */
        /* Per join attempt that got a session, the performance.now() of its first remote video
         * frame (null until one is shown), and every end event with the time it arrived: a test
         * measures a reconnect from the end to the next join's first frame. */
        joinFrames: [],
        ends: [],
        /* performance.now() of each step of the first join, the first time it happens: what a
         * join's time is spent on (docs/benchmarks.md). legFrames: per other participant's leg,
         * its first video frame shown, and frameReceived the receiveTime of the first one. */
        marks: {script: Math.round(performance.now())},
        legFrames: {},
        stats: collectStats,
        self: me,
    };
    window.cb = cb;

    function mark(name, at) {
        if (!(name in cb.marks))
            cb.marks[name] = Math.round(at === undefined ? performance.now() : at);
    }

    function setState(state, reason) {
        cb.state = state;
        if (reason !== undefined)
            cb.endReason = reason;
        const inLobby = me.lobby && (state === 'joining' || state === 'connected');
        document.title = 'callbridge: ' + (inLobby ? 'lobby' : state);
        const status = $('status');
        let text = inLobby ? 'Waiting in the lobby' : STATE_TEXT[state] || state;
        if (reason && (state === 'failed' || state === 'lost'))
            text += ': ' + reason;
        if (state === 'removed' && reason && /host left/.test(reason))
            text = reason;
        status.textContent = text;
        status.classList.toggle('error', state === 'failed' || state === 'lost');
        const inCall = state === 'joining' || state === 'connected';
        $('meeting').hidden = !inCall;
        $('leave').disabled = !inCall;
    }

    /* POSTs a JSON body; resolves to {status, body} with body {} when the answer is not JSON. */
    async function postJson(path, body, signal) {
        const res = await fetch(path, {
            method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify(body),
            cache: 'no-store',
            signal,
        });
        let parsed = {};
        try {
            parsed = await res.json();
        } catch (e) {
            parsed = {};
        }
        return {status: res.status, body: parsed};
    }

    /* The human reason of a refused join, never guessing which credential was wrong. */
    function joinError(status, body) {
        if (status === 403 && body && /^rejoin/.test(body.error) && body.message)
            return body.message;
        if (status === 403)
            return 'the meeting ID or passcode is not valid';
        if (status === 429) {
            const after = Number(body.retryAfter);
            return 'too many attempts; try again' +
                (after > 0 ? ' in ' + after + ' seconds' : ' later');
        }
        if (body && typeof body.message === 'string' && body.message)
            return body.message;
        return 'the server answered ' + status;
    }

    async function openCamera() {
        if (localStream)
            return localStream;
        const tries = [
            {audio: true, video: {width: 640, height: 480}},
            {audio: true, video: false},
            {audio: false, video: {width: 640, height: 480}},
        ];
        let lastError = null;
        mark('gumStart');
        for (const constraints of tries) {
            try {
                localStream = await navigator.mediaDevices.getUserMedia(constraints);
                mark('gumDone');
                $('self-video').srcObject = localStream;
                return localStream;
            } catch (e) {
                lastError = e;
            }
        }
        throw new Error('camera and microphone unavailable (' +
            (lastError ? lastError.name : 'no mediaDevices') + ')');
    }

    function localTrack(kind) {
        if (!localStream)
            return null;
        const tracks = kind === 'audio' ? localStream.getAudioTracks() :
            localStream.getVideoTracks();
        return tracks.length ? tracks[0] : null;
    }

    /* The media sections of an SDP: mid, kind, port and direction of each m-line. */
    function mediaSections(sdp) {
        const sections = [];
        let cur = null;
        for (const line of sdp.split(/\r?\n/)) {
            const m = /^m=(\w+) (\d+)/.exec(line);
            if (m) {
                cur = {kind: m[1], port: Number(m[2]), mid: null, direction: 'sendrecv'};
                sections.push(cur);
            } else if (cur && line.startsWith('a=mid:')) {
                cur.mid = line.slice(6).trim();
            } else if (cur && /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line)) {
                cur.direction = line.slice(2);
            }
        }
        return sections;
    }

    /* Puts the guest's camera and microphone on the m-lines callbridged receives on: at most one
     * audio and one video, the first of each kind; any further one is left inactive. While the
     * camera is still opening (it opens alongside the join), the first of each kind is answered
     * sendonly with no track yet, and attachCamera puts the track on without a renegotiation:
     * the connection and the others' media do not wait for the camera. Once the camera is open,
     * a kind it lacks is answered inactive. */
    async function attachLocalTracks(pc, sdp) {
        const sections = mediaSections(sdp);
        const used = new Set();
        for (const t of pc.getTransceivers()) {
            if (t.stopped || t.currentDirection === 'stopped' || t.mid === null)
                continue;
            const m = sections.find((s) => s.mid === t.mid);
            if (!m || m.port === 0 || m.direction !== 'recvonly')
                continue;
            const track = localTrack(m.kind);
            if (used.has(m.kind) || (localStream && !track)) {
                t.direction = 'inactive';
                continue;
            }
            used.add(m.kind);
            t.direction = 'sendonly';
            if (track)
                await t.sender.replaceTrack(track);
        }
    }

    /* The camera opened after the answer: its tracks go on the m-lines answered for them. */
    async function attachCamera(pc) {
        for (const t of pc.getTransceivers()) {
            if (t.stopped || t.direction !== 'sendonly' || t.sender.track)
                continue;
            const track = localTrack(t.receiver.track.kind);
            if (track)
                await t.sender.replaceTrack(track);
        }
    }

    /* Serialises the POSTs of one session: the answer reaches the server before its candidates. */
    function queuePost(s, path, body) {
        s.posts = s.posts.then(() => {
            if (s.closed)
                return null;
            return postJson(path, body, s.abort.signal).catch(() => null);
        });
        return s.posts;
    }

    function onCandidate(s, ev) {
        let body;
        if (ev.candidate && / typ relay/.test(ev.candidate.candidate))
            mark('relayCandidate');
        if (ev.candidate && ev.candidate.candidate) {
            body = {session: s.token, candidate: ev.candidate.candidate,
                sdpMid: ev.candidate.sdpMid === null ? '0' : ev.candidate.sdpMid};
        } else {
            if (s.candidatesDone)
                return;
            s.candidatesDone = true;
            mark('gatheringDone');
            const first = s.pc.getTransceivers().find((t) => t.mid !== null);
            body = {session: s.token, candidate: '', sdpMid: first ? first.mid : '0'};
        }
        if (s.answered)
            queuePost(s, '/meeting/api/candidate', body);
        else
            s.pendingCandidates.push(body);
    }

    /* The TURN server's refusal (401: wrong credentials) or silence (701): the server keeps it
     * for the reason it gives if ICE fails, as a CMS logs "ICE failure 4". A few per session. */
    function onCandidateError(s, ev) {
        s.candidateErrors = (s.candidateErrors || 0) + 1;
        if (s.candidateErrors > 3)
            return;
        const body = {session: s.token, error: {code: ev.errorCode, text: String(ev.errorText || ''),
            url: String(ev.url || '')}};
        if (s.answered)
            queuePost(s, '/meeting/api/candidate', body);
        else
            s.pendingCandidates.push(body);
    }

    /* The marks of the transport's steps: the pair ICE selects, DTLS starting and done. */
    function markTransport(s) {
        const sender = s.pc.getSenders().find((x) => x.transport);
        if (!sender || s.transportMarked)
            return;
        s.transportMarked = true;
        const dtls = sender.transport;
        dtls.addEventListener('statechange', () => mark(dtls.state === 'connected' ?
            'dtlsConnected' : 'dtls-' + dtls.state));
        dtls.iceTransport.addEventListener('selectedcandidatepairchange',
            () => mark('pairSelected'));
    }

    async function onOffer(s, sdp) {
        const pc = s.pc;
        mark('offer');
        await pc.setRemoteDescription({type: 'offer', sdp});
        mark('remoteSet');
        await attachLocalTracks(pc, sdp);
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        mark('localSet');
        markTransport(s);
        const sent = queuePost(s, '/meeting/api/answer',
            {session: s.token, sdp: pc.localDescription.sdp});
        s.answered = true;
        for (const body of s.pendingCandidates)
            queuePost(s, '/meeting/api/candidate', body);
        s.pendingCandidates = [];
        const res = await sent;
        mark('answerPosted');
        if (res && res.status === 410) /* the session ended meanwhile: its end event says how */
            return;
        if (res && res.status !== 200)
            throw new Error('the server refused the answer: ' +
                (res.body.message || res.body.error || res.status));
        pruneTiles(pc);
    }

    function tileFor(leg) {
        let li = tiles.get(leg);
        if (li)
            return li;
        li = document.createElement('li');
        const fig = document.createElement('figure');
        const video = document.createElement('video');
        video.autoplay = true;
        video.playsInline = true;
        const cap = document.createElement('figcaption');
        fig.append(video, cap);
        li.append(fig);
        li.dataset.leg = leg;
        $('tiles').append(li);
        tiles.set(leg, li);
        nameTile(leg);
        return li;
    }

    function nameTile(leg) {
        const li = tiles.get(leg);
        if (!li)
            return;
        const name = names.get(leg) || 'Guest';
        const m = muted.get(leg) || {audio: false, video: false};
        const notes = (m.audio ? ['muted'] : []).concat(m.video ? ['video off'] : []);
        li.querySelector('figcaption').textContent = !me.participantLabels ? '' :
            notes.length ? name + ' (' + notes.join(', ') + ')' : name;
        li.querySelector('video').setAttribute('aria-label', 'Video of ' + name);
        li.hidden = waiting.has(leg);
        li.classList.toggle('audio-muted', m.audio);
        li.classList.toggle('video-muted', m.video);
    }

    function onTrack(s, ev) {
        const stream = ev.streams && ev.streams[0];
        if (!stream)
            return;
        trackLegs.set(ev.track.id, stream.id);
        const video = tileFor(stream.id).querySelector('video');
        if (video.srcObject !== stream)
            video.srcObject = stream;
        video.play().catch(() => {});
        if (ev.track.kind === 'video')
            mark('track');
        if (ev.track.kind === 'video' && video.requestVideoFrameCallback)
            video.requestVideoFrameCallback((now, frame) => {
                mark('firstFrame', now);
                if (frame && frame.receiveTime)
                    mark('frameReceived', frame.receiveTime);
                if (!(stream.id in cb.legFrames))
                    cb.legFrames[stream.id] = Math.round(now);
                if (cb.firstFrameMs === null)
                    cb.firstFrameMs = Math.round(now);
                if (cb.joinFrames[s.attempt] === null)
                    cb.joinFrames[s.attempt] = Math.round(now);
            });
    }

    /* A participant's tile stays while one of its m-lines still receives; a stopped or inactive
     * one (the participant left) no longer counts. */
    function liveLegs(pc) {
        const live = new Set();
        for (const t of pc.getTransceivers()) {
            if (t.stopped || !t.currentDirection)
                continue;
            if (t.currentDirection !== 'recvonly' && t.currentDirection !== 'sendrecv')
                continue;
            const leg = trackLegs.get(t.receiver.track.id);
            if (leg)
                live.add(leg);
        }
        return live;
    }

    function pruneTiles(pc) {
        const live = liveLegs(pc);
        for (const [leg, li] of tiles) {
            if (live.has(leg))
                continue;
            li.remove();
            tiles.delete(leg);
        }
    }

    function clearTiles() {
        for (const li of tiles.values())
            li.remove();
        tiles.clear();
        trackLegs.clear();
    }

    function onRoster(participants) {
        if (!Array.isArray(participants))
            return;
        names.clear();
        muted.clear();
        waiting.clear();
        for (const p of participants) {
            if (p && typeof p.leg === 'string' && typeof p.name === 'string' && !p.self) {
                names.set(p.leg, p.name);
                muted.set(p.leg, {audio: p.audioMuted === true, video: p.videoMuted === true});
                if (p.lobby === true)
                    waiting.add(p.leg);
            } else if (p && p.self) {
                showSelf(p);
            }
        }
        for (const leg of tiles.keys())
            nameTile(leg);
    }

    /* What the host has done to this guest: its label, and what of it the others get. */
    function showSelf(p) {
        const notes = [];
        if (p.audioMuted === true)
            notes.push('the others cannot hear you');
        if (p.videoMuted === true)
            notes.push('the others cannot see you');
        if (p.hearsNobody === true)
            notes.push('you cannot hear the others');
        if (p.seesNobody === true)
            notes.push('you cannot see the others');
        const name = (typeof p.name === 'string' && p.name ? p.name + ' ' : '') + '(you)';
        $('self-name').textContent =
            notes.length ? name + ' (muted by the host: ' + notes.join('; ') + ')' : name;
    }

    /* The call's messageText (PUT /calls/<id>): shown at its position for its duration
     * (seconds, or "permanent"); an empty text or a duration of 0 or none removes it, as CMS
     * shows nothing without a duration. */
    function onMessage(ev) {
        let p = $('message');
        if (!p) {
            p = document.createElement('p');
            p.id = 'message';
            p.setAttribute('role', 'status');
            p.setAttribute('aria-live', 'polite');
        }
        if (ev.position === 'top')
            $('meeting').prepend(p);
        else if (ev.position === 'bottom')
            $('meeting').append(p);
        else
            $('tiles').after(p);
        clearTimeout(messageTimer);
        const text = typeof ev.text === 'string' ? ev.text : '';
        const duration = String(ev.duration || '');
        const seconds = duration === 'permanent' ? Infinity : parseInt(duration, 10) || 0;
        p.textContent = text;
        p.hidden = !text || seconds <= 0;
        if (!p.hidden && seconds !== Infinity)
            messageTimer = setTimeout(() => { p.hidden = true; }, seconds * 1000);
    }

    /* Closes a session's connection and its event loop; the local camera stays for a rejoin. */
    function closeSession(s) {
        if (!s || s.closed)
            return;
        s.closed = true;
        s.abort.abort();
        s.pc.close();
        clearTiles();
    }

    /* The end of the session: shown, the camera released, and (when 'tellServer') the server
     * told so it can free the leg at once. */
    function finish(s, state, reason, tellServer) {
        if (session !== s || s.closed)
            return;
        const token = s.token;
        s.finished = true;
        closeSession(s);
        if (tellServer)
            postJson('/meeting/api/leave', {session: token}).catch(() => {});
        releaseCamera();
        setState(state, reason);
    }

    /* Turns the camera and microphone off (a failed or ended join); a new join asks again. */
    function releaseCamera() {
        if (!localStream)
            return;
        for (const t of localStream.getTracks())
            t.stop();
        localStream = null;
        $('self-video').srcObject = null;
    }

    /* The session is lost but the meeting may go on (its TURN server failed, the connection
     * dropped): join again after a moment, with the rejoin credential when the page has one, so
     * the guest types nothing. The old session is not left: leaving would revoke the credential,
     * and the rejoin replaces the old leg. False when the reconnects in a row are spent. */
    function rejoinLater(s) {
        if (reconnects >= MAX_RECONNECTS)
            return false;
        reconnects++;
        closeSession(s);
        setState('joining');
        setTimeout(() => {
            if (session === s)
                join().catch(() => {});
        }, RECONNECT_DELAY_MS);
        return true;
    }

    function onEnd(s, ev) {
        const detail = typeof ev.detail === 'string' && ev.detail ? ev.detail : ev.reason;
        cb.ends.push({reason: String(ev.reason), detail: String(detail),
            reconnect: ev.reconnect === true, atMs: Math.round(performance.now())});
        if (ev.reconnect === true && rejoinLater(s))
            return;
        if (ev.reason === 'left')
            finish(s, 'left', 'left', false);
        else if (ev.reason === 'dropped' && /host left/.test(detail)) /* the lobby's disconnect */
            finish(s, 'removed', detail, false);
        else if (ev.reason === 'dropped')
            finish(s, 'removed', 'removed by the administrator', false);
        else
            finish(s, 'lost', detail || 'failed', false);
    }

    /* The "self" event: the lobby, the rights and the mutes of this guest's own leg. */
    function onSelf(ev) {
        for (const k of Object.keys(me))
            if (typeof ev[k] === 'boolean')
                me[k] = ev[k];
        $('lobby').hidden = !me.lobby;
        $('tiles').hidden = me.lobby;
        setState(cb.state);
        const audio = $('mute-audio');
        const video = $('mute-video');
        audio.hidden = !me.muteSelfAllowed;
        video.hidden = !me.videoMuteSelfAllowed;
        audio.textContent = me.audioMuted ? 'Unmute' : 'Mute';
        video.textContent = me.videoMuted ? 'Start video' : 'Stop video';
        audio.setAttribute('aria-pressed', String(me.audioMuted));
        video.setAttribute('aria-pressed', String(me.videoMuted));
        for (const leg of tiles.keys())
            nameTile(leg);
    }

    /* A mute button: callbridged mutes in the media path and answers with a "self" event. */
    async function muteSelf(kind) {
        const s = session;
        if (!s || !s.token)
            return;
        const body = {session: s.token};
        body[kind] = kind === 'audio' ? !me.audioMuted : !me.videoMuted;
        const res = await postJson('/meeting/api/mute', body).catch(() => null);
        if (res && res.status !== 200)
            $('status').textContent = (res.body && res.body.message) || 'mute refused';
    }

    async function handleEvent(s, ev) {
        if (ev.type === 'offer' && typeof ev.sdp === 'string')
            await onOffer(s, ev.sdp);
        else if (ev.type === 'roster')
            onRoster(ev.participants);
        else if (ev.type === 'message')
            onMessage(ev);
        else if (ev.type === 'self')
            onSelf(ev);
        else if (ev.type === 'end')
            onEnd(s, ev);
    }

    /* One long poll; the server answers within 20 s, so one that takes far longer is a dead
     * connection and is given up (a failure the loop retries), as is any poll on leaving. */
    async function pollEvents(s, after) {
        const ctl = new AbortController();
        const stop = () => ctl.abort();
        const timer = setTimeout(stop, POLL_TIMEOUT_MS);
        s.abort.signal.addEventListener('abort', stop);
        try {
            const res = await fetch('/meeting/api/events?session=' + encodeURIComponent(s.token) +
                '&after=' + after, {cache: 'no-store', signal: ctl.signal});
            const body = res.status === 200 ? await res.json().catch(() => ({})) : {};
            return {status: res.status, body};
        } finally {
            clearTimeout(timer);
            s.abort.signal.removeEventListener('abort', stop);
        }
    }

    /* The long poll: each answer's events are handled in order; a 410 means the session is gone. */
    async function eventLoop(s) {
        let after = 0;
        let failures = 0;
        while (session === s && !s.closed) {
            let res = null;
            try {
                res = await pollEvents(s, after);
            } catch (e) {
                if (s.closed)
                    return;
            }
            if (res && res.status === 410) {
                finish(s, 'lost', 'the session is gone', false);
                return;
            }
            if (!res || res.status !== 200) {
                if (++failures > 3) {
                    if (!rejoinLater(s))
                        finish(s, 'lost', res ? 'events answered ' + res.status :
                            'the server cannot be reached', true);
                    return;
                }
                await new Promise((r) => setTimeout(r, 1000));
                continue;
            }
            failures = 0;
            const events = Array.isArray(res.body.events) ? res.body.events : [];
            for (const ev of events) {
                if (session !== s || s.closed)
                    return;
                if (typeof ev.seq === 'number' && ev.seq > after)
                    after = ev.seq;
                try {
                    await handleEvent(s, ev);
                } catch (e) {
                    finish(s, 'failed', e.message || String(e), true);
                    return;
                }
            }
        }
    }

    function newPeerConnection(s, joined) {
        const pc = new RTCPeerConnection({
            iceServers: Array.isArray(joined.iceServers) ? joined.iceServers : [],
            iceTransportPolicy: joined.iceTransportPolicy === 'relay' ? 'relay' : 'all',
            bundlePolicy: 'max-bundle',
            rtcpMuxPolicy: 'require',
            /* no iceCandidatePoolSize: Chromium 156 takes no pooled candidate as the answerer
             * (measured: the relay came as late with a pool of 1, and cost a second allocation) */
        });
        pc.ontrack = (ev) => onTrack(s, ev);
        pc.onicecandidate = (ev) => onCandidate(s, ev);
        pc.onicecandidateerror = (ev) => onCandidateError(s, ev);
        pc.oniceconnectionstatechange = () => mark('ice-' + pc.iceConnectionState);
        pc.onconnectionstatechange = () => {
            if (session !== s || s.closed)
                return;
            if (pc.connectionState === 'connected') {
                mark('connected');
                reconnects = 0; /* a long meeting may outlive several TURN servers */
                setState('connected');
            } else if (pc.connectionState === 'failed') {
                if (!rejoinLater(s))
                    finish(s, 'lost', 'ICE or DTLS failed', true);
            }
        };
        return pc;
    }

    /* A join that got no session: the camera's failure if it failed (as when it was asked for
     * first), else the join's, with the form to try again. */
    async function joinRefused(camera, why) {
        const cameraError = await camera;
        releaseCamera();
        setState('failed', cameraError ? cameraError.message : why);
        if (!cameraError && !fromLink)
            showForm();
    }

    /* One join with the credentials kept in 'credentials' (the link's or the form's). The camera
     * opens while the join is asked for; a camera that cannot open ends the session. */
    async function join() {
        setState('joining', null);
        const camera = openCamera().then(() => null, (e) => e);
        let res;
        try {
            mark('joinPost');
            res = await postJson('/meeting/api/join', credentials);
            mark('joinAnswered');
        } catch (e) {
            if (credentials.rejoin && otherNodes.length) {
                /* this call bridge is gone: another takes the credential (in the fragment,
                 * which no server sees, and which that page takes off its address) */
                releaseCamera();
                location.assign(otherNodes[0] + '/meeting/' + encodeURIComponent(credentials.callId) +
                    '#rejoin=' + encodeURIComponent(credentials.rejoin));
                return;
            }
            await joinRefused(camera, 'the server cannot be reached');
            return;
        }
        if (res.status === 503 && credentials.rejoin && busyRejoins < MAX_BUSY_REJOINS) {
            busyRejoins++; /* e.g. callBridgeUnavailable until the cluster ends a dead node's call */
            setState('joining', (res.body && res.body.message) || null);
            await camera;
            await new Promise((r) => setTimeout(r, RECONNECT_DELAY_MS));
            return join();
        }
        busyRejoins = 0;
        if (res.status === 200 && typeof res.body.redirect === 'string' &&
            /^https?:\/\//.test(res.body.redirect)) {
            /* the meeting runs on another call bridge of the cluster: its join page takes over
             * with a one-use ticket (in the URL's fragment, never sent to a server) */
            releaseCamera();
            location.assign(res.body.redirect);
            return;
        }
        if (res.status === 403 && credentials.rejoin && linkCredentials) {
            credentials = linkCredentials; /* the link's secret still admits it */
            await camera; /* the next join finds it open */
            return join();
        }
        if (res.status !== 200 || typeof res.body.session !== 'string') {
            if (credentials.rejoin) /* the form asks again, prefilled but for the passcode */
                credentials = {callId: credentials.callId, name: ''};
            await joinRefused(camera, joinError(res.status, res.body));
            return;
        }
        cb.rejoins = (cb.rejoins || 0) + (credentials.rejoin ? 1 : 0);
        if (typeof res.body.rejoin === 'string' && res.body.rejoin)
            credentials = {callId: typeof res.body.callId === 'string' ? res.body.callId :
                credentials.callId, rejoin: res.body.rejoin};
        if (Array.isArray(res.body.callBridges))
            otherNodes = res.body.callBridges.filter((u) => typeof u === 'string' &&
                /^https?:\/\//.test(u)).map((u) => u.replace(/\/+$/, ''));
        const s = {token: res.body.session, closed: false, answered: false, candidatesDone: false,
            pendingCandidates: [], posts: Promise.resolve(), abort: new AbortController(),
            attempt: cb.joinFrames.length};
        cb.joinFrames.push(null);
        session = s;
        eventLoop(s); /* its first poll is on its way before the connection is set up */
        s.pc = newPeerConnection(s, res.body);
        mark('pcCreated');
        cb.leg = typeof res.body.leg === 'string' ? res.body.leg : null;
        $('self-name').textContent = (res.body.name || credentials.name) + ' (you)';
        const cameraError = await camera;
        if (cameraError)
            finish(s, 'failed', cameraError.message, true);
        else if (s.finished && session === s)
            releaseCamera(); /* the session ended while the camera opened */
        else if (!s.closed)
            await attachCamera(s.pc);
    }

    function showForm() {
        $('join-form').hidden = false;
        const first = ['callid', 'passcode', 'name'].find((id) => !$('field-' + id).hidden &&
            !$(id).value);
        if (first)
            $(first).focus();
    }

    /* /meeting/<callId>?secret=..&name=..: the link's parts; anything missing is asked for. */
    function start() {
        const params = new URLSearchParams(location.search);
        const match = /^\/meeting\/([^/]+)\/?$/.exec(location.pathname);
        let callId = '';
        if (match) {
            try {
                callId = decodeURIComponent(match[1]);
            } catch (e) {
                callId = '';
            }
        }
        const secret = params.get('secret') || '';
        const name = (params.get('name') || '').trim();
        /* sent here by another call bridge of the cluster: #handoff=<ticket> stands for the
         * admission there; it is taken off the address at once (not kept in the history) */
        const fragment = new URLSearchParams(location.hash.slice(1));
        const handoff = fragment.get('handoff') || '';
        /* sent here by a page whose call bridge stopped answering: its rejoin credential */
        const rejoin = fragment.get('rejoin') || '';
        if (handoff || rejoin)
            history.replaceState(null, '', location.pathname + location.search);
        $('callid').value = callId;
        $('name').value = name;
        $('field-callid').hidden = callId !== '' && secret !== '';
        $('field-passcode').hidden = secret !== '';
        $('mute-audio').addEventListener('click', () => muteSelf('audio'));
        $('mute-video').addEventListener('click', () => muteSelf('video'));
        $('leave').addEventListener('click', () => {
            if (session)
                finish(session, 'left', 'left', true);
        });
        /* A closed tab sends no DTLS close_notify (Chromium): without this its leg would stay
         * in the others' meeting until the silence timeout. A beacon outlives the page. */
        window.addEventListener('pagehide', () => {
            if (!session || session.closed)
                return;
            navigator.sendBeacon('/meeting/api/leave', new Blob(
                [JSON.stringify({session: session.token})], {type: 'application/json'}));
        });
        $('join-form').addEventListener('submit', (ev) => {
            ev.preventDefault();
            const form = {callId: $('callid').value.trim(), name: $('name').value.trim()};
            if (secret)
                form.secret = secret;
            else
                form.passcode = $('passcode').value;
            credentials = form;
            reconnects = 0;
            $('join-form').hidden = true;
            join().catch((e) => setState('failed', e.message));
        });
        fromLink = callId !== '' && secret !== '' && name !== '';
        if (rejoin) {
            credentials = {callId, rejoin};
            $('field-callid').hidden = true;
            join().catch((e) => setState('failed', e.message));
        } else if (handoff) {
            /* used once: the join's answer brings the rejoin credential for later */
            credentials = {callId, handoff};
            $('field-callid').hidden = true;
            join().catch((e) => setState('failed', e.message));
        } else if (fromLink) {
            credentials = {callId, secret, name};
            linkCredentials = credentials;
            join().catch((e) => setState('failed', e.message));
        } else {
            setState('idle');
            showForm();
        }
    }

    /* What a test reads: the ICE state, the candidate types of the nominated pair, and per other
     * participant the frames decoded and audio packets received; every candidate pair's ports and
     * bytes, to tell which path media took when it stops. */
    async function collectStats() {
        const s = session;
        const out = {iceState: null, pair: null, video: [], audio: [], pairs: []};
        if (!s || s.closed)
            return out;
        out.iceState = s.pc.iceConnectionState;
        const report = await s.pc.getStats();
        const midLeg = new Map();
        for (const t of s.pc.getTransceivers()) {
            if (t.mid !== null && !t.stopped && trackLegs.has(t.receiver.track.id))
                midLeg.set(t.mid, trackLegs.get(t.receiver.track.id));
        }
        let pair = null;
        report.forEach((st) => {
            if (st.type === 'transport' && st.selectedCandidatePairId)
                pair = report.get(st.selectedCandidatePairId) || pair;
        });
        report.forEach((st) => {
            if (!pair && st.type === 'candidate-pair' && st.nominated && st.state === 'succeeded')
                pair = st;
            if (st.type !== 'inbound-rtp')
                return;
            const leg = st.mid !== undefined ? midLeg.get(st.mid) :
                trackLegs.get(st.trackIdentifier);
            if (!leg || !tiles.has(leg))
                return;
            const name = names.get(leg) || null;
            if (st.kind === 'video') /* the counters after framesDecoded: why frames stop */
                out.video.push({leg, name, framesDecoded: st.framesDecoded || 0,
                    framesReceived: st.framesReceived || 0,
                    packetsReceived: st.packetsReceived || 0,
                    packetsLost: st.packetsLost || 0, nackCount: st.nackCount || 0,
                    pliCount: st.pliCount || 0, firCount: st.firCount || 0,
                    keyFramesDecoded: st.keyFramesDecoded || 0});
            else if (st.kind === 'audio')
                out.audio.push({leg, name, packetsReceived: st.packetsReceived || 0});
        });
        const port = (id) => (report.get(id) || {}).port;
        report.forEach((st) => {
            if (st.type !== 'candidate-pair')
                return;
            out.pairs.push({local: port(st.localCandidateId), remote: port(st.remoteCandidateId),
                state: st.state, nominated: !!st.nominated, selected: !!pair && st.id === pair.id,
                bytesSent: st.bytesSent || 0, bytesReceived: st.bytesReceived || 0});
        });
        if (pair) {
            const local = report.get(pair.localCandidateId);
            const remote = report.get(pair.remoteCandidateId);
            out.pair = {local: local ? local.candidateType : null,
                remote: remote ? remote.candidateType : null};
        }
        return out;
    }

    start();
})();
