"""ECAT 7 binary layouts and code tables.

An ECAT 7 file is a sequence of 512-byte blocks (numbered from 1): the main
header (block 1), matrix-list (directory) blocks starting at block 2, and for
each frame a 512-byte subheader block followed by the frame's data blocks.
Field names are those of the ECAT 7 specification (and nibabel).
"""

from __future__ import annotations

import numpy as np

from ..volumeutils import make_dt_codes

__all__ = ["BLOCK_SIZE", "data_type_codes", "file_type_codes", "hdr_dtype", "main_header_dtd",
           "patient_orient_codes", "patient_orient_neurological", "patient_orient_radiological",
           "subhdr_dtype", "subheader_dtd"]

BLOCK_SIZE = 512


def _fields(spec: str) -> list[tuple]:
    """Fields from 'name type[xN]' lines: S types are byte strings, xN makes an array of N."""
    fields: list[tuple] = []
    for line in spec.split(";"):
        if not line.strip():
            continue
        name, kind = line.split()
        if "x" in kind:
            base, count = kind.split("x")
            fields.append((name, np.dtype(base), (int(count),)))
        else:
            fields.append((name, np.dtype(kind)))
    return fields


main_header_dtd = _fields("""
magic_number S14; original_filename S32; sw_version u2; system_type u2; file_type u2;
serial_number S10; scan_start_time u4; isotope_name S8; isotope_halflife f4;
radiopharmaceutical S32; gantry_tilt f4; gantry_rotation f4; bed_elevation f4; intrinsic_tilt f4;
wobble_speed u2; transm_source_type u2; distance_scanned f4; transaxial_fov f4;
angular_compression u2; coin_samp_mode u2; axial_samp_mode u2; ecat_calibration_factor f4;
calibration_unitS u2; calibration_units_type u2; compression_code u2; study_type S12;
patient_id S16; patient_name S32; patient_sex S1; patient_dexterity S1; patient_age f4;
patient_height f4; patient_weight f4; patient_birth_date u4; physician_name S32;
operator_name S32; study_description S32; acquisition_type u2; patient_orientation u2;
facility_name S20; num_planes u2; num_frames u2; num_gates u2; num_bed_pos u2;
init_bed_position f4; bed_position f4x15; plane_separation f4; lwr_sctr_thres u2;
lwr_true_thres u2; upr_true_thres u2; user_process_code S10; acquisition_mode u2; bin_size f4;
branching_fraction f4; dose_start_time u4; dosage f4; well_counter_corr_factor f4;
data_units S32; septa_state u2; fill S12
""")
hdr_dtype = np.dtype(main_header_dtd)

subheader_dtd = _fields("""
data_type u2; num_dimensions u2; x_dimension u2; y_dimension u2; z_dimension u2;
x_offset f4; y_offset f4; z_offset f4; recon_zoom f4; scale_factor f4; image_min i2;
image_max i2; x_pixel_size f4; y_pixel_size f4; z_pixel_size f4; frame_duration u4;
frame_start_time u4; filter_code u2; x_resolution f4; y_resolution f4; z_resolution f4;
num_r_elements f4; num_angles f4; z_rotation_angle f4; decay_corr_fctr f4;
corrections_applied u4; gate_duration u4; r_wave_offset u4; num_accepted_beats u4;
filter_cutoff_frequency f4; filter_resolution f4; filter_ramp_slope f4; filter_order u2;
filter_scatter_fraction f4; filter_scatter_slope f4; annotation S40;
mt_1_1 f4; mt_1_2 f4; mt_1_3 f4; mt_2_1 f4; mt_2_2 f4; mt_2_3 f4; mt_3_1 f4; mt_3_2 f4; mt_3_3 f4;
rfilter_cutoff f4; rfilter_resolution f4; rfilter_code u2; rfilter_order u2;
zfilter_cutoff f4; zfilter_resolution f4; zfilter_code u2; zfilter_order u2;
mt_4_1 f4; mt_4_2 f4; mt_4_3 f4; scatter_type u2; recon_type u2; recon_views u2;
fill S174; fill2 S96
""")
subhdr_dtype = np.dtype(subheader_dtd)

# data_type codes of image subheaders: (code, name, numpy type); byte order is the file's
data_type_codes = make_dt_codes((
    (1, "ECAT7_BYTE", np.uint8),
    (2, "ECAT7_VAXI2", np.int16),
    (3, "ECAT7_VAXI4", np.int32),
    (4, "ECAT7_VAXR4", np.float32),
    (5, "ECAT7_IEEER4", np.float32),
    (6, "ECAT7_SUNI2", np.int16),
    (7, "ECAT7_SUNI4", np.int32),
))

file_type_codes = dict(enumerate((
    "ECAT7_UNKNOWN", "ECAT7_2DSCAN", "ECAT7_IMAGE16", "ECAT7_ATTEN", "ECAT7_2DNORM",
    "ECAT7_POLARMAP", "ECAT7_VOLUME8", "ECAT7_VOLUME16", "ECAT7_PROJ", "ECAT7_PROJ16",
    "ECAT7_IMAGE8", "ECAT7_3DSCAN", "ECAT7_3DSCAN8", "ECAT7_3DNORM", "ECAT7_3DSCANFIT",
)))

patient_orient_codes = dict(enumerate((
    "ECAT7_Feet_First_Prone", "ECAT7_Head_First_Prone", "ECAT7_Feet_First_Supine",
    "ECAT7_Head_First_Supine", "ECAT7_Feet_First_Decubitus_Right",
    "ECAT7_Head_First_Decubitus_Right", "ECAT7_Feet_First_Decubitus_Left",
    "ECAT7_Head_First_Decubitus_Left", "ECAT7_Unknown_Orientation",
)))

# feet-first orientations are stored radiologically, head-first neurologically
patient_orient_radiological = [0, 2, 4, 6]
patient_orient_neurological = [1, 3, 5, 7]
