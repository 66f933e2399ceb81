// The dashboard's files (admin/dashboard/), built into the binary so the
// page needs nothing from the network or the file system.
#pragma once

#include <string_view>

namespace kerberus::admin {

struct DashboardAsset {
    std::string_view content_type;
    std::string_view body;
};

// "/" (the page), "/dashboard.js", "/dashboard.css"; null for any other path.
const DashboardAsset* dashboard_asset(std::string_view path);

}  // namespace kerberus::admin
