-- 0005: call leg, call, DTMF, branding, dial-in security, compatibility, user and web bridge
-- profiles, layout templates, web bridges and the system-level profiles (one row). A profile
-- column left NULL inherits from the level above (api/res/profiles.c). Deleting a profile clears
-- the references to it, as CMS lets an administrator delete a profile in use (usageFilter exists
-- to find the unreferenced ones first).

CREATE TABLE call_leg_profile (
    seq                                         INTEGER PRIMARY KEY,
    id                                          TEXT NOT NULL UNIQUE,
    name                                        TEXT,
    needs_activation                            INTEGER,
    default_layout                              TEXT,
    change_layout_allowed                       INTEGER,
    participant_labels                          INTEGER,
    presentation_display_mode                   TEXT,
    presentation_contribution_allowed           INTEGER,
    presentation_viewing_allowed                INTEGER,
    end_call_allowed                            INTEGER,
    mute_others_allowed                         INTEGER,
    video_mute_others_allowed                   INTEGER,
    mute_self_allowed                           INTEGER,
    video_mute_self_allowed                     INTEGER,
    join_tone_participant_threshold             INTEGER,
    leave_tone_participant_threshold            INTEGER,
    video_mode                                  TEXT,
    rx_audio_mute                               INTEGER,
    tx_audio_mute                               INTEGER,
    rx_video_mute                               INTEGER,
    tx_video_mute                               INTEGER,
    sip_media_encryption                        TEXT,
    audio_packet_size_ms                        INTEGER,
    deactivation_mode                           TEXT,
    deactivation_mode_time                      INTEGER,
    telepresence_calls_allowed                  INTEGER,
    sip_presentation_channel_enabled            INTEGER,
    bfcp_mode                                   TEXT,
    call_lock_allowed                           INTEGER,
    set_importance_allowed                      INTEGER,
    allow_all_mute_self_allowed                 INTEGER,
    allow_all_presentation_contribution_allowed INTEGER,
    change_join_audio_mute_override_allowed     INTEGER,
    recording_control_allowed                   INTEGER,
    streaming_control_allowed                   INTEGER,
    max_call_duration_time                      INTEGER,
    quality_main                                TEXT,
    quality_presentation                        TEXT,
    participant_counter                         TEXT,
    control_remote_camera_allowed               INTEGER,
    layout_template                             TEXT REFERENCES layout_template(id) ON DELETE SET NULL,
    audio_gain_mode                             TEXT,
    disconnect_others_allowed                   INTEGER,
    add_participant_allowed                     INTEGER,
    created_ms                                  INTEGER NOT NULL,
    updated_ms                                  INTEGER NOT NULL
) STRICT;

CREATE TABLE call_profile (
    seq                             INTEGER PRIMARY KEY,
    id                              TEXT NOT NULL UNIQUE,
    participant_limit               INTEGER,
    locked                          INTEGER,
    lock_mode                       TEXT,
    recording_mode                  TEXT,
    streaming_mode                  TEXT,
    sip_recorder_uri                TEXT,
    sip_streamer_uri                TEXT,
    passcode_mode                   TEXT,
    passcode_timeout                INTEGER,
    gateway_audio_call_optimization INTEGER,
    lync_conference_mode            TEXT,
    created_ms                      INTEGER NOT NULL,
    updated_ms                      INTEGER NOT NULL
) STRICT;

CREATE TABLE dtmf_profile (
    seq                                        INTEGER PRIMARY KEY,
    id                                         TEXT NOT NULL UNIQUE,
    lock_call                                  TEXT,
    unlock_call                                TEXT,
    next_layout                                TEXT,
    previous_layout                            TEXT,
    mute_self_audio                            TEXT,
    unmute_self_audio                          TEXT,
    toggle_mute_self_audio                     TEXT,
    mute_all_except_self_audio                 TEXT,
    unmute_all_except_self_audio               TEXT,
    start_recording                            TEXT,
    stop_recording                             TEXT,
    start_streaming                            TEXT,
    stop_streaming                             TEXT,
    allow_all_mute_self                        TEXT,
    cancel_allow_all_mute_self                 TEXT,
    allow_all_presentation_contribution        TEXT,
    cancel_allow_all_presentation_contribution TEXT,
    mute_all_new_audio                         TEXT,
    unmute_all_new_audio                       TEXT,
    default_mute_all_new_audio                 TEXT,
    mute_all_new_and_all_except_self_audio     TEXT,
    unmute_all_new_and_all_except_self_audio   TEXT,
    end_call                                   TEXT,
    get_total_participant_count                TEXT,
    created_ms                                 INTEGER NOT NULL,
    updated_ms                                 INTEGER NOT NULL
) STRICT;

CREATE TABLE call_branding_profile (
    seq                 INTEGER PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
    invitation_template TEXT,
    resource_location   TEXT,
    created_ms          INTEGER NOT NULL,
    updated_ms          INTEGER NOT NULL
) STRICT;

CREATE TABLE ivr_branding_profile (
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    resource_location TEXT,
    created_ms        INTEGER NOT NULL,
    updated_ms        INTEGER NOT NULL
) STRICT;

CREATE TABLE dial_in_security_profile (
    seq                    INTEGER PRIMARY KEY,
    id                     TEXT NOT NULL UNIQUE,
    name                   TEXT,
    min_passcode_length    INTEGER,
    blank_passcode_allowed INTEGER,
    created_ms             INTEGER NOT NULL,
    updated_ms             INTEGER NOT NULL
) STRICT;

CREATE TABLE compatibility_profile (
    seq                               INTEGER PRIMARY KEY,
    id                                TEXT NOT NULL UNIQUE,
    sip_udt                           INTEGER,
    sip_multistream                   INTEGER,
    sip_media_payload_type_mode       TEXT,
    chrome_web_rtc_video_codec        TEXT,
    chrome_web_rtc_h264interop_mode   TEXT,
    h264_chp_mode                     TEXT,
    sip_h224                          INTEGER,
    distribution_link_media_traversal TEXT,
    created_ms                        INTEGER NOT NULL,
    updated_ms                        INTEGER NOT NULL
) STRICT;

CREATE TABLE user_profile (
    seq                            INTEGER PRIMARY KEY,
    id                             TEXT NOT NULL UNIQUE,
    can_create_co_spaces           INTEGER,
    can_create_calls               INTEGER,
    can_use_external_devices       INTEGER,
    can_make_phone_calls           INTEGER,
    user_to_user_messaging_allowed INTEGER,
    has_license                    INTEGER,
    created_ms                     INTEGER NOT NULL,
    updated_ms                     INTEGER NOT NULL
) STRICT;

CREATE TABLE layout_template (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    name       TEXT,
    template   TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE web_bridge_profile (
    seq                          INTEGER PRIMARY KEY,
    id                           TEXT NOT NULL UNIQUE,
    name                         TEXT,
    resource_archive             TEXT,
    allow_passcodes              INTEGER,
    allow_secrets                INTEGER,
    user_portal_enabled          INTEGER,
    allow_unauthenticated_guests INTEGER,
    resolve_co_space_call_ids    INTEGER,
    resolve_lync_conference_ids  INTEGER,
    resolve_co_space_uris        TEXT,
    created_ms                   INTEGER NOT NULL,
    updated_ms                   INTEGER NOT NULL
) STRICT;

CREATE TABLE web_bridge (
    seq                INTEGER PRIMARY KEY,
    id                 TEXT NOT NULL UNIQUE,
    url                TEXT,
    tenant             TEXT REFERENCES tenant(id) ON DELETE RESTRICT,
    call_bridge        TEXT REFERENCES call_bridge(id) ON DELETE RESTRICT,
    call_bridge_group  TEXT REFERENCES call_bridge_group(id) ON DELETE RESTRICT,
    web_bridge_profile TEXT REFERENCES web_bridge_profile(id) ON DELETE SET NULL,
    created_ms         INTEGER NOT NULL,
    updated_ms         INTEGER NOT NULL
) STRICT;

CREATE TABLE system_profile (
    seq                      INTEGER PRIMARY KEY,
    id                       TEXT NOT NULL UNIQUE,
    call_leg_profile         TEXT REFERENCES call_leg_profile(id) ON DELETE SET NULL,
    call_profile             TEXT REFERENCES call_profile(id) ON DELETE SET NULL,
    dtmf_profile             TEXT REFERENCES dtmf_profile(id) ON DELETE SET NULL,
    user_profile             TEXT REFERENCES user_profile(id) ON DELETE SET NULL,
    ivr_branding_profile     TEXT REFERENCES ivr_branding_profile(id) ON DELETE SET NULL,
    call_branding_profile    TEXT REFERENCES call_branding_profile(id) ON DELETE SET NULL,
    compatibility_profile    TEXT REFERENCES compatibility_profile(id) ON DELETE SET NULL,
    dial_in_security_profile TEXT REFERENCES dial_in_security_profile(id) ON DELETE SET NULL,
    web_bridge_profile       TEXT REFERENCES web_bridge_profile(id) ON DELETE SET NULL,
    created_ms               INTEGER NOT NULL,
    updated_ms               INTEGER NOT NULL
) STRICT;

CREATE INDEX web_bridge_tenant ON web_bridge(tenant);

-- The system-level profiles: one row, whose id the API never shows (/system/profiles).
INSERT INTO system_profile (id, created_ms, updated_ms)
    VALUES ('00000000-0000-4000-8000-000000000001', 0, 0);

-- The join page this daemon serves, as the web bridge it is (api/res/webbridge.c): created here
-- so that it exists from the first start; it can be changed (its webBridgeProfile governs the
-- join page) but not deleted (api/res/webbridge.c refuses).
INSERT INTO web_bridge (id, created_ms, updated_ms)
    VALUES ('d041a4ef-8194-4de3-8586-bb095384f57b', 0, 0);

-- coSpaces' profile columns (0002) predate the profile tables: a deleted profile is cleared
-- there as the REFERENCES ... ON DELETE SET NULL above clears it everywhere else.
CREATE TRIGGER call_leg_profile_cleared AFTER DELETE ON call_leg_profile BEGIN
    UPDATE cospace SET call_leg_profile = NULL WHERE call_leg_profile = OLD.id;
END;
CREATE TRIGGER call_profile_cleared AFTER DELETE ON call_profile BEGIN
    UPDATE cospace SET call_profile = NULL WHERE call_profile = OLD.id;
END;
CREATE TRIGGER call_branding_profile_cleared AFTER DELETE ON call_branding_profile BEGIN
    UPDATE cospace SET call_branding_profile = NULL WHERE call_branding_profile = OLD.id;
END;
CREATE TRIGGER dial_in_security_profile_cleared AFTER DELETE ON dial_in_security_profile BEGIN
    UPDATE cospace SET dial_in_security_profile = NULL WHERE dial_in_security_profile = OLD.id;
END;
CREATE INDEX cospace_call_leg_profile ON cospace(call_leg_profile);
CREATE INDEX cospace_call_profile ON cospace(call_profile);
CREATE INDEX cospace_call_branding_profile ON cospace(call_branding_profile);
CREATE INDEX cospace_dial_in_security_profile ON cospace(dial_in_security_profile);

CREATE TRIGGER web_bridge_builtin_kept BEFORE DELETE ON web_bridge
    WHEN OLD.id = 'd041a4ef-8194-4de3-8586-bb095384f57b'
BEGIN
    SELECT RAISE(ABORT, 'the built-in web bridge is the join page');
END;

-- Tenants' profiles: the level between a coSpace (or web bridge) and the system.
ALTER TABLE tenant ADD COLUMN call_leg_profile TEXT REFERENCES call_leg_profile(id) ON DELETE SET NULL;
ALTER TABLE tenant ADD COLUMN call_profile TEXT REFERENCES call_profile(id) ON DELETE SET NULL;
ALTER TABLE tenant ADD COLUMN dtmf_profile TEXT REFERENCES dtmf_profile(id) ON DELETE SET NULL;
ALTER TABLE tenant ADD COLUMN ivr_branding_profile TEXT REFERENCES ivr_branding_profile(id) ON DELETE SET NULL;
ALTER TABLE tenant ADD COLUMN call_branding_profile TEXT REFERENCES call_branding_profile(id) ON DELETE SET NULL;
ALTER TABLE tenant ADD COLUMN user_profile TEXT REFERENCES user_profile(id) ON DELETE SET NULL;
ALTER TABLE tenant ADD COLUMN dial_in_security_profile TEXT REFERENCES dial_in_security_profile(id) ON DELETE SET NULL;
ALTER TABLE tenant ADD COLUMN web_bridge_profile TEXT REFERENCES web_bridge_profile(id) ON DELETE SET NULL;
