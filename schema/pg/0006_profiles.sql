-- 0006: call leg, call, DTMF, branding, dial-in security, compatibility, user and web bridge
-- profiles, layout templates, web bridges and the system-level profiles (one row). A profile
-- column left NULL inherits from the level above (api/res/profiles.c). Deleting a profile clears
-- the references to it, as CMS lets an administrator delete a profile in use (usageFilter exists
-- to find the unreferenced ones first).

-- PostgreSQL: layout_template comes first, as call_leg_profile references it and PostgreSQL,
-- unlike SQLite, wants the referenced table to exist (the columns are the same).
CREATE TABLE layout_template (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    name       text,
    template   text,
    created_ms bigint NOT NULL,
    updated_ms bigint NOT NULL
);

CREATE TABLE call_leg_profile (
    seq                                         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                                          text NOT NULL UNIQUE,
    name                                        text,
    needs_activation                            bigint,
    default_layout                              text,
    change_layout_allowed                       bigint,
    participant_labels                          bigint,
    presentation_display_mode                   text,
    presentation_contribution_allowed           bigint,
    presentation_viewing_allowed                bigint,
    end_call_allowed                            bigint,
    mute_others_allowed                         bigint,
    video_mute_others_allowed                   bigint,
    mute_self_allowed                           bigint,
    video_mute_self_allowed                     bigint,
    join_tone_participant_threshold             bigint,
    leave_tone_participant_threshold            bigint,
    video_mode                                  text,
    rx_audio_mute                               bigint,
    tx_audio_mute                               bigint,
    rx_video_mute                               bigint,
    tx_video_mute                               bigint,
    sip_media_encryption                        text,
    audio_packet_size_ms                        bigint,
    deactivation_mode                           text,
    deactivation_mode_time                      bigint,
    telepresence_calls_allowed                  bigint,
    sip_presentation_channel_enabled            bigint,
    bfcp_mode                                   text,
    call_lock_allowed                           bigint,
    set_importance_allowed                      bigint,
    allow_all_mute_self_allowed                 bigint,
    allow_all_presentation_contribution_allowed bigint,
    change_join_audio_mute_override_allowed     bigint,
    recording_control_allowed                   bigint,
    streaming_control_allowed                   bigint,
    max_call_duration_time                      bigint,
    quality_main                                text,
    quality_presentation                        text,
    participant_counter                         text,
    control_remote_camera_allowed               bigint,
    layout_template                             text REFERENCES layout_template(id) ON DELETE SET NULL,
    audio_gain_mode                             text,
    disconnect_others_allowed                   bigint,
    add_participant_allowed                     bigint,
    created_ms                                  bigint NOT NULL,
    updated_ms                                  bigint NOT NULL
);

CREATE TABLE call_profile (
    seq                             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                              text NOT NULL UNIQUE,
    participant_limit               bigint,
    locked                          bigint,
    lock_mode                       text,
    recording_mode                  text,
    streaming_mode                  text,
    sip_recorder_uri                text,
    sip_streamer_uri                text,
    passcode_mode                   text,
    passcode_timeout                bigint,
    gateway_audio_call_optimization bigint,
    lync_conference_mode            text,
    created_ms                      bigint NOT NULL,
    updated_ms                      bigint NOT NULL
);

CREATE TABLE dtmf_profile (
    seq                                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                                         text NOT NULL UNIQUE,
    lock_call                                  text,
    unlock_call                                text,
    next_layout                                text,
    previous_layout                            text,
    mute_self_audio                            text,
    unmute_self_audio                          text,
    toggle_mute_self_audio                     text,
    mute_all_except_self_audio                 text,
    unmute_all_except_self_audio               text,
    start_recording                            text,
    stop_recording                             text,
    start_streaming                            text,
    stop_streaming                             text,
    allow_all_mute_self                        text,
    cancel_allow_all_mute_self                 text,
    allow_all_presentation_contribution        text,
    cancel_allow_all_presentation_contribution text,
    mute_all_new_audio                         text,
    unmute_all_new_audio                       text,
    default_mute_all_new_audio                 text,
    mute_all_new_and_all_except_self_audio     text,
    unmute_all_new_and_all_except_self_audio   text,
    end_call                                   text,
    get_total_participant_count                text,
    created_ms                                 bigint NOT NULL,
    updated_ms                                 bigint NOT NULL
);

CREATE TABLE call_branding_profile (
    seq                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                  text NOT NULL UNIQUE,
    invitation_template text,
    resource_location   text,
    created_ms          bigint NOT NULL,
    updated_ms          bigint NOT NULL
);

CREATE TABLE ivr_branding_profile (
    seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                text NOT NULL UNIQUE,
    resource_location text,
    created_ms        bigint NOT NULL,
    updated_ms        bigint NOT NULL
);

CREATE TABLE dial_in_security_profile (
    seq                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                     text NOT NULL UNIQUE,
    name                   text,
    min_passcode_length    bigint,
    blank_passcode_allowed bigint,
    created_ms             bigint NOT NULL,
    updated_ms             bigint NOT NULL
);

CREATE TABLE compatibility_profile (
    seq                               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                                text NOT NULL UNIQUE,
    sip_udt                           bigint,
    sip_multistream                   bigint,
    sip_media_payload_type_mode       text,
    chrome_web_rtc_video_codec        text,
    chrome_web_rtc_h264interop_mode   text,
    h264_chp_mode                     text,
    sip_h224                          bigint,
    distribution_link_media_traversal text,
    created_ms                        bigint NOT NULL,
    updated_ms                        bigint NOT NULL
);

CREATE TABLE user_profile (
    seq                            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                             text NOT NULL UNIQUE,
    can_create_co_spaces           bigint,
    can_create_calls               bigint,
    can_use_external_devices       bigint,
    can_make_phone_calls           bigint,
    user_to_user_messaging_allowed bigint,
    has_license                    bigint,
    created_ms                     bigint NOT NULL,
    updated_ms                     bigint NOT NULL
);

CREATE TABLE web_bridge_profile (
    seq                          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                           text NOT NULL UNIQUE,
    name                         text,
    resource_archive             text,
    allow_passcodes              bigint,
    allow_secrets                bigint,
    user_portal_enabled          bigint,
    allow_unauthenticated_guests bigint,
    resolve_co_space_call_ids    bigint,
    resolve_lync_conference_ids  bigint,
    resolve_co_space_uris        text,
    created_ms                   bigint NOT NULL,
    updated_ms                   bigint NOT NULL
);

CREATE TABLE web_bridge (
    seq                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                 text NOT NULL UNIQUE,
    url                text,
    tenant             text REFERENCES tenant(id) ON DELETE RESTRICT,
    call_bridge        text REFERENCES call_bridge(id) ON DELETE RESTRICT,
    call_bridge_group  text REFERENCES call_bridge_group(id) ON DELETE RESTRICT,
    web_bridge_profile text REFERENCES web_bridge_profile(id) ON DELETE SET NULL,
    created_ms         bigint NOT NULL,
    updated_ms         bigint NOT NULL
);

CREATE TABLE system_profile (
    seq                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                       text NOT NULL UNIQUE,
    call_leg_profile         text REFERENCES call_leg_profile(id) ON DELETE SET NULL,
    call_profile             text REFERENCES call_profile(id) ON DELETE SET NULL,
    dtmf_profile             text REFERENCES dtmf_profile(id) ON DELETE SET NULL,
    user_profile             text REFERENCES user_profile(id) ON DELETE SET NULL,
    ivr_branding_profile     text REFERENCES ivr_branding_profile(id) ON DELETE SET NULL,
    call_branding_profile    text REFERENCES call_branding_profile(id) ON DELETE SET NULL,
    compatibility_profile    text REFERENCES compatibility_profile(id) ON DELETE SET NULL,
    dial_in_security_profile text REFERENCES dial_in_security_profile(id) ON DELETE SET NULL,
    web_bridge_profile       text REFERENCES web_bridge_profile(id) ON DELETE SET NULL,
    created_ms               bigint NOT NULL,
    updated_ms               bigint NOT NULL
);

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
-- PostgreSQL: a trigger runs a function; one per profile table, as SQLite has one trigger each.
CREATE FUNCTION call_leg_profile_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cospace SET call_leg_profile = NULL WHERE call_leg_profile = OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER call_leg_profile_cleared AFTER DELETE ON call_leg_profile
    FOR EACH ROW EXECUTE FUNCTION call_leg_profile_cleared();
CREATE FUNCTION call_profile_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cospace SET call_profile = NULL WHERE call_profile = OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER call_profile_cleared AFTER DELETE ON call_profile
    FOR EACH ROW EXECUTE FUNCTION call_profile_cleared();
CREATE FUNCTION call_branding_profile_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cospace SET call_branding_profile = NULL WHERE call_branding_profile = OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER call_branding_profile_cleared AFTER DELETE ON call_branding_profile
    FOR EACH ROW EXECUTE FUNCTION call_branding_profile_cleared();
CREATE FUNCTION dial_in_security_profile_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cospace SET dial_in_security_profile = NULL WHERE dial_in_security_profile = OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER dial_in_security_profile_cleared AFTER DELETE ON dial_in_security_profile
    FOR EACH ROW EXECUTE FUNCTION dial_in_security_profile_cleared();
CREATE INDEX cospace_call_leg_profile ON cospace(call_leg_profile);
CREATE INDEX cospace_call_profile ON cospace(call_profile);
CREATE INDEX cospace_call_branding_profile ON cospace(call_branding_profile);
CREATE INDEX cospace_dial_in_security_profile ON cospace(dial_in_security_profile);

-- PostgreSQL: RAISE with SQLSTATE 23514 (check_violation), which the driver maps to -EINVAL as
-- it maps SQLite's constraint failure.
CREATE FUNCTION web_bridge_builtin_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the built-in web bridge is the join page' USING ERRCODE = '23514';
END $$;
CREATE TRIGGER web_bridge_builtin_kept BEFORE DELETE ON web_bridge
    FOR EACH ROW WHEN (OLD.id = 'd041a4ef-8194-4de3-8586-bb095384f57b')
    EXECUTE FUNCTION web_bridge_builtin_kept();

-- Tenants' profiles: the level between a coSpace (or web bridge) and the system.
ALTER TABLE tenant ADD COLUMN call_leg_profile text REFERENCES call_leg_profile(id) ON DELETE SET NULL;
ALTER TABLE tenant ADD COLUMN call_profile text REFERENCES call_profile(id) ON DELETE SET NULL;
ALTER TABLE tenant ADD COLUMN dtmf_profile text REFERENCES dtmf_profile(id) ON DELETE SET NULL;
ALTER TABLE tenant ADD COLUMN ivr_branding_profile text REFERENCES ivr_branding_profile(id) ON DELETE SET NULL;
ALTER TABLE tenant ADD COLUMN call_branding_profile text REFERENCES call_branding_profile(id) ON DELETE SET NULL;
ALTER TABLE tenant ADD COLUMN user_profile text REFERENCES user_profile(id) ON DELETE SET NULL;
ALTER TABLE tenant ADD COLUMN dial_in_security_profile text REFERENCES dial_in_security_profile(id) ON DELETE SET NULL;
ALTER TABLE tenant ADD COLUMN web_bridge_profile text REFERENCES web_bridge_profile(id) ON DELETE SET NULL;
